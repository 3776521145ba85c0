from launcher.contract.specs import InputRef, MakeModelSpec, ProbeSpec, QuantizeSpec
from launcher.keys import canonical_json, job_key

DIGEST = "a" * 64


def test_canonical_json_is_order_independent_and_compact():
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})


def test_canonical_json_keeps_unicode_and_rejects_nan():
    assert canonical_json({"x": "é"}) == '{"x":"é"}'
    try:
        canonical_json({"x": float("nan")})
    except ValueError:
        pass
    else:
        raise AssertionError("NaN must not be canonicalised")


def test_job_key_is_stable_and_ignores_how_the_spec_was_built():
    a = MakeModelSpec(architecture="DenseNet169", input_size=64)
    b = MakeModelSpec.model_validate({"input_size": "64", "architecture": "DenseNet169"})
    assert job_key(a, "sha256:1") == job_key(b, "sha256:1")
    assert len(job_key(a, "sha256:1")) == 64


def test_job_key_changes_with_spec_image_schema_and_input_content():
    base = QuantizeSpec(model=InputRef(path="/inputs/model", sha256=DIGEST))
    key = job_key(base, "sha256:1")
    assert job_key(base, "sha256:2") != key
    assert job_key(base, "sha256:1", schema_version=2) != key
    assert job_key(base.model_copy(update={"mode": "dynamic"}), "sha256:1") != key
    other_input = QuantizeSpec(model=InputRef(path="/inputs/model", sha256="b" * 64))
    assert job_key(other_input, "sha256:1") != key
    assert job_key(ProbeSpec(), "sha256:1") != key


def test_the_decoded_cache_is_not_part_of_the_key():
    """``decoded`` holds the pixels of ``images`` at ``input_size`` (both keyed): a job's key
    is the same whether it was given them or decoded the files itself, as a model or as the
    spec.json a store holds."""
    images = InputRef(path="/inputs/images", sha256=DIGEST)
    plain = QuantizeSpec(model=InputRef(path="/inputs/model", sha256=DIGEST), images=images,
                         mode="int8")
    cached = plain.model_copy(update={
        "decoded": InputRef(path="/inputs/decoded", sha256="c" * 64)})
    assert job_key(cached, "sha256:1") == job_key(plain, "sha256:1")
    assert job_key(cached.model_dump(mode="json"), "sha256:1") == job_key(plain, "sha256:1")
    other_images = plain.model_copy(update={"images": InputRef(path="/inputs/images",
                                                               sha256="b" * 64)})
    assert job_key(other_images, "sha256:1") != job_key(plain, "sha256:1")
