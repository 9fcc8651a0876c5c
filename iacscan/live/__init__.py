"""Live AWS state: the read-only collector behind ``iacscan snapshot`` and ``scan --live``.

``iacscan.live.collect`` reads an account with boto3 into a versioned JSON snapshot
(the format is documented there); ``iacscan.parsers.live`` turns a snapshot into the model.
"""
