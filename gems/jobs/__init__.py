"""The jobs service, above the core: what the API's job routes, TES and the embedded stack call.

service    JobService: submit, read, retry; composed of the collaborators below
lifecycle  ending and relaunching workers: stop, lost, interrupted, finished
launch     executing a launch plan: manifests, RunInstances, what each launch gave
jobview    the job as GET /job shows it (WorkerView), from live tags or S3 records
readcache  the read path's caches: immutable S3 objects, one shared all-jobs tag read
run_table  the run on one page: a row per sample (summary.tsv/.json)
results    a job's result files, grouped by sample, with pre-signed links
hml        a job's HLA typings as one HML 1.0.1 document
"""
