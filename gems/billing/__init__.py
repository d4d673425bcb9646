"""What a job costs.

cost         a job's workers priced (pure): instance type x capacity x run time
pricebook    the prices it is figured at: live from AWS where reachable, else the table
prices.json  the dated table of us-east-1 list prices shipped with the code
"""
