"""Vendor dialects: one module per vendor, each a thin translation over the same engine.

How to add one (``jd``, ``jumdata``, ``iflytek`` and ``wecom`` are the expected names, listed in
``qinggan.service.registry.DIALECT_MODULES``):

1. Create ``qinggan/service/dialects/<name>.py`` with an ``APIRouter`` whose routes sit at the
   vendor's full paths (``/jdai/sentiment``, ``/v1/sa``, ...), and a function
   ``dialect() -> Dialect`` returning
   ``Dialect(name="<name>", router=router, prefixes=("/jdai/",), render_error=render)``.
   ``name`` must be one of ``qinggan.service.apps.DIALECTS``: apps are allowed by it.
2. In each route: parse the vendor's request (query, form or JSON; unknown fields ignored where
   the vendor ignores them), check the timestamp with ``check_timestamp``, build a proof with
   ``signature_proof(lambda secret: md5(secret + timestamp), sign)`` (or ``secret_proof``),
   check the vendor's text byte limit, then ``grant = await authorize(request, dialect="<name>",
   app_id=..., proof=..., calls=n)`` and run the engine with
   ``await run_inference(request, analyzer.analyze_batch, texts, errors="report")``.
3. Map canonical labels to the vendor's numbers and names in one table in the module, and fill
   the envelope's ``charge``/``remain`` from ``grant.charge.calls`` and ``grant.remain``.
4. ``render(request, error)`` maps ``error.code`` (``qinggan.service.errors``) to the vendor's
   error codes and envelope, and picks the HTTP status the vendor uses.
5. Dialects never import each other; shared needs go into ``qinggan.service`` itself.
6. Golden request/response files in ``tests/fixtures/dialects/<name>/``, tests in
   ``tests/service/test_dialect_<name>.py`` using the fixtures of ``tests/service/conftest.py``.

The full list of helpers is in the docstring of :mod:`qinggan.service`.
"""
