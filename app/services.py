"""What the views need, built once per app: the job service and the key store."""

from __future__ import annotations

from dataclasses import dataclass

from gems.auth import KeyStore
from gems.aws.clients import API_ATTEMPTS, Clients
from gems.aws.secrets import CredstashSecrets
from gems.config import Config
from gems.jobs.service import JobService


@dataclass
class Services:
    config: Config
    clients: Clients
    keys: KeyStore
    jobs: JobService

    @classmethod
    def from_config(cls, config: Config, secrets=None) -> Services:
        clients = Clients(config, attempts=API_ATTEMPTS)
        keys = KeyStore(secrets or CredstashSecrets(config))
        pricing = clients.pricing if config.prices == "live" else None
        jobs = JobService(config, clients.ec2, clients.s3, keys, pricing=pricing)
        return cls(config=config, clients=clients, keys=keys, jobs=jobs)
