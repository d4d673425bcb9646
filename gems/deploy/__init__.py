"""`gems deploy` / `gems destroy`: one stage's account resources as a CloudFormation stack
(`template.yaml`), plus the settings Zappa deploys the API function with.

Plan, then execute: `settings` checks what the user gave (pure) and then against the account,
`stack` turns the template and parameters into a change set it prints or applies, `stage`
builds the Zappa stage settings from the stack's outputs.
"""
