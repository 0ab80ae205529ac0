"""The outbox: messages to applicants written in the transaction of the change that causes
them (core.models.OutboxMessage), sent and retried by `delivery`, each kind's text and email
registered by the app that owns the kind (`kinds`)."""
