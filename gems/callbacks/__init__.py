"""Signed callbacks: a job's status POSTed to the URL its submitter gave, one feature in three
steps.

  rules    the pure part: which URLs a job may be called on, the signature, the delivery
           record's decisions (what to send next, when to try again, when to give up)
  notify   the executor: read a job's delivery record, queue what it owes, send what is due,
           record the outcome
  webhook  sending one callback to the very address that was checked, no redirects
"""
