"""botocore service models, loaded once and shared (read-only)."""
import os
import threading

import botocore.loaders
import botocore.model

_loader = botocore.loaders.Loader()
# Debian 12's python3-botocore (1.29.27) predates RDS's managed master passwords
# (ManageMasterUserPassword on ModifyDB*, MasterUserSecret in DBInstance/DBCluster,
# December 2022). The awscli package (2.9.19) bundles a newer botocore whose RDS
# model has them: RDS is validated and rendered with that one when it is there.
NEWER_DATA = "/usr/lib/python3/dist-packages/awscli/botocore/data"
_NEWER_FOR = {"rds"}
_newer_loader = botocore.loaders.Loader(extra_search_paths=[NEWER_DATA]) \
    if os.path.isdir(os.path.join(NEWER_DATA, "rds")) else None
_models = {}
_lock = threading.Lock()


def service_model(name):
    """Return botocore's ServiceModel for `name` (rds, sts, secretsmanager, ssm)."""
    with _lock:
        model = _models.get(name)
        if model is None:
            loader = _newer_loader if (_newer_loader and name in _NEWER_FOR) else _loader
            model = botocore.model.ServiceModel(
                loader.load_service_model(name, "service-2"), name)
            _models[name] = model
        return model


def preload(names):
    """Load models in the background so the first request does not pay for it."""
    def run():
        for n in names:
            service_model(n)
    t = threading.Thread(target=run, name="model-preload", daemon=True)
    t.start()
    return t
