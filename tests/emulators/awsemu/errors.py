"""The one exception type every handler raises to produce an AWS error."""


class AwsError(Exception):
    """An error rendered in the protocol of the service that raised it.

    code/status/message are what AWS sends; sender is False for 5xx errors
    (rendered as <Type>Receiver</Type> in Query responses)."""

    def __init__(self, code, message, status=400, sender=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender = (status < 500) if sender is None else sender


def model_error(service_model, shape_name, message):
    """Build an AwsError from a modelled error shape (code and HTTP status
    taken from the shape's "error" trait, exactly as AWS sends them)."""
    shape = service_model.shape_for(shape_name)
    trait = shape.metadata.get("error", {})
    code = trait.get("code", shape_name)
    status = trait.get("httpStatusCode", 400)
    return AwsError(code, message, status, trait.get("senderFault", status < 500))
