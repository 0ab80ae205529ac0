"""The SMS backends' former home: the classes are core.sms's (the outbox's channel, in core
since the outbox moved there). Kept so that an SMS_BACKEND naming `appointments.sms.*`, as
deployments configured before the move, still finds its class."""

from core.sms import BaseSmsBackend, ConsoleBackend, FileBackend, get_backend

__all__ = ["BaseSmsBackend", "ConsoleBackend", "FileBackend", "get_backend"]
