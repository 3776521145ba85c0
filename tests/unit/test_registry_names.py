import pytest

from launcher import registry
from launcher.device.profiles import get_profile
from launcher.errors import UserError


def test_registry_prefix_rules():
    assert registry.registry_prefix("127.0.0.1:5000/") == "127.0.0.1:5000"
    assert registry.registry_prefix(None, environ={"EDGECOMPRESS_REGISTRY": "ghcr.io/lab"}) == (
        "ghcr.io/lab")
    with pytest.raises(UserError, match="without a scheme"):
        registry.registry_prefix("http://127.0.0.1:5000")
    with pytest.raises(UserError, match="no registry given"):
        registry.registry_prefix(None, environ={})


def test_remote_names_keep_the_tag_that_says_what_is_inside():
    profile = get_profile("x86-tf2.12")
    assert registry.remote_ref(profile, "127.0.0.1:5000") == (
        "127.0.0.1:5000/edgecompress/jobs:x86-tf2.12-py311")


def test_digest_is_picked_for_the_remote_repository():
    digests = ["other/repo@sha256:aaa", "127.0.0.1:5000/edgecompress/jobs@sha256:bbb"]
    assert registry.digest_for(digests, "127.0.0.1:5000/edgecompress/jobs:x86-tf2.12-py311") == (
        "sha256:bbb")
    assert registry.digest_for([], "r/x:y") is None
