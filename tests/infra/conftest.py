"""Package the app once per test session for each deployable stage, exactly as `make package`
does (chalice package --merge-template; offline, no AWS account), and hand the tests the result."""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.package import package
from infra.stage import DEPLOYABLE_STAGES


@dataclass
class Packaged:
    stage: str
    path: Path            # build/<stage>/package/sam.json, what `aws cloudformation deploy` gets
    template: dict        # its contents (SAM: AWS::Serverless::* before the transform)
    _transformed: dict | None = field(default=None, repr=False)

    def resources(self, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def transformed(self) -> dict:
        """The plain CloudFormation the SAM transform turns this into (what CloudFormation creates);
        transformed once per session, a fresh copy for each caller."""
        if self._transformed is None:
            self._transformed = self._transform()
        return copy.deepcopy(self._transformed)

    def _transform(self) -> dict:
        from samtranslator.translator.transform import transform

        sam = copy.deepcopy(self.template)
        for fn in sam["Resources"].values():
            if fn["Type"] == "AWS::Serverless::Function":  # `cloudformation package` uploads it the same way
                fn["Properties"]["CodeUri"] = "s3://artifacts-bucket/deployment.zip"

        class NoManagedPolicies:
            def load(self):
                return {}

        region = os.environ.get("AWS_DEFAULT_REGION")
        os.environ["AWS_DEFAULT_REGION"] = region or "us-east-1"
        try:
            return transform(sam, {}, NoManagedPolicies())
        finally:
            if region is None:
                del os.environ["AWS_DEFAULT_REGION"]


@pytest.fixture(scope="session")
def packaged_stages(tmp_path_factory) -> dict[str, Packaged]:
    out = {}
    for stage in DEPLOYABLE_STAGES:
        path = package(stage, tmp_path_factory.mktemp(f"package-{stage}"))
        out[stage] = Packaged(stage, path, json.loads(path.read_text()))
    return out


@pytest.fixture(params=DEPLOYABLE_STAGES)
def packaged(request, packaged_stages) -> Packaged:
    return packaged_stages[request.param]
