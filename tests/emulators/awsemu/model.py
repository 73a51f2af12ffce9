"""botocore service models, loaded once and shared (read-only)."""
import threading

import botocore.loaders
import botocore.model

_loader = botocore.loaders.Loader()
_models = {}
_lock = threading.Lock()


def service_model(name):
    """Return botocore's ServiceModel for `name` (rds, sts, secretsmanager, ssm)."""
    with _lock:
        model = _models.get(name)
        if model is None:
            model = botocore.model.ServiceModel(
                _loader.load_service_model(name, "service-2"), name)
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
