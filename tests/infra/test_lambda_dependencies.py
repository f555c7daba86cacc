"""The Lambda deployment package carries the run-time dependencies built for Lambda's Linux, the
compiled ones (ada-url's URL parser, cffi) included: a missing one is an ImportError on every request."""
from __future__ import annotations

import re
import zipfile

# glibc of the Lambda runtimes (Amazon Linux 2 for python3.11, Amazon Linux 2023 for python3.12+).
RUNTIME_GLIBC = {"python3.11": (2, 26), "python3.12": (2, 34), "python3.13": (2, 34)}


def test_the_deployment_package_has_the_url_parser_built_for_the_lambda_runtime(packaged):
    runtimes = {fn["Properties"]["Runtime"] for fn in packaged.resources("AWS::Serverless::Function").values()}
    assert len(runtimes) == 1
    glibc = RUNTIME_GLIBC[runtimes.pop()]
    with zipfile.ZipFile(packaged.path.parent / "deployment.zip") as z:
        names = z.namelist()
        assert "ada_url/__init__.py" in names
        assert [n for n in names if re.fullmatch(r"ada_url/_ada_wrapper\.[^/]*\.so", n)]
        assert [n for n in names if re.fullmatch(r"_cffi_backend\.[^/]*x86_64-linux-gnu\.so", n)]
        wheel = z.read(next(n for n in names if re.fullmatch(r"ada_url-[^/]+\.dist-info/WHEEL", n))).decode()
    tags = re.findall(r"^Tag: \S+-\S+-manylinux_(\d+)_(\d+)_x86_64$", wheel, re.M)
    assert any((int(a), int(b)) <= glibc for a, b in tags), wheel
