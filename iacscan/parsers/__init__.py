"""Parsers: each turns one kind of source into the model (``iacscan.model.Estate``).

- ``terraform.parse_terraform(root, dirs, var_files)`` — HCL module directories;
- ``cloudformation.parse_documents(root, files, parameter_file)`` — CloudFormation
  templates among YAML/JSON files (other files are skipped silently);
- ``plan.parse_plan(root, path)`` — ``terraform show -json`` output;
- ``live`` — boto3 snapshots.

Parsers know nothing about rules. A file that cannot be read or parsed becomes a
``ParseError`` in the estate (IAC001), and the other files go on.
"""
