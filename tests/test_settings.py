import pytest
from django.core.exceptions import ImproperlyConfigured

from epassport.settings.data import celery_broker_url


def test_a_unix_socket_redis_url_becomes_a_kombu_socket_url():
    assert (
        celery_broker_url("unix:///srv/data/redis.sock?db=2")
        == "redis+socket:///srv/data/redis.sock?virtual_host=2"
    )


def test_a_tcp_redis_url_is_kept():
    assert celery_broker_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_another_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured):
        celery_broker_url("amqp://guest@localhost//")
