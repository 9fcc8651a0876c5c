"""Generate a synthetic AWS estate (Terraform + CloudFormation) for benchmarks and smoke tests.

Usage::

    python scripts/gen_estate.py --size S|M|L --out DIR

Sizes:

====  ========  ===========  ======  ===============================
size  services  module dirs  groups  text (Terraform + CloudFormation)
====  ========  ===========  ======  ===============================
S     25        54           280     0.3 MB, 189 files
M     250       504          2,755   3.3 MB, 1,839 files
L     1,500     3,004        16,503  19.7 MB, 11,005 files
====  ========  ===========  ======  ===============================

(module dirs: two per service plus three network roots and ``global/audit``; groups:
ten Terraform groups per service, three per CloudFormation stack, one default group per
network root.)

Layout: ``envs/<env>/svc-NNNN/`` is one service, a root module (``main.tf``,
``variables.tf``, ``outputs.tf``, ``terraform.tfvars``) that calls a local module
``./modules/workers`` (a second module directory). Environments rotate prod, staging,
dev. Every third service also has a CloudFormation stack ``cfn/stack.yaml`` beside its
Terraform. ``envs/<env>/network/`` holds the VPC with its flow log, ``global/audit/``
CloudTrail, an EventBridge rule on security-group changes and AWS Config. Every service differs (names, ports, CIDRs), so no two files
are identical and a content-keyed parse cache gains nothing on a cold run.

What the code exercises: tiers wired by group references (internet → load balancer →
application → database/cache, application → worker pools → VPC endpoint), variables
with defaults and ``terraform.tfvars`` values, locals, ``merge``/``for`` expressions,
``dynamic`` blocks over maps and lists, ``for_each`` on groups and workloads inside the
local module, module outputs feeding the caller, standalone rule resources
(``aws_vpc_security_group_ingress_rule``, ``aws_security_group_rule``), launch templates
with autoscaling groups, and CloudFormation with ``!Ref``/``!GetAtt``/``!Sub`` and a
standalone ``AWS::EC2::SecurityGroupIngress``.

Planted mistakes (the same for every size; ``PLANTED`` names them) so that a scan finds
something definite: SSH open to the internet (svc-0002), all traffic open to the internet
through a variable (svc-0005), a public PostgreSQL database in a CloudFormation stack
(svc-0003), an invalid CIDR in ``terraform.tfvars`` (svc-0007) and a rule without
description (svc-0004). The rest of the estate is clean for the security-group,
reachability, environment and AWS401-406/AWS408 rules (the AMI and CPU-alarm rules
AWS407/AWS409 report on it: its AMI ids are literals and it has no CPU alarms).
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

SIZES = {"S": 25, "M": 250, "L": 1500}
ENVS = ("prod", "staging", "dev")
ENV_VPC = {"prod": ("vpc-0a11aa11aa11aa111", "10.10.0.0/16"),
           "staging": ("vpc-0b22bb22bb22bb222", "10.20.0.0/16"),
           "dev": ("vpc-0c33cc33cc33cc333", "10.30.0.0/16")}

#: Planted mistakes: (service index, what). The smoke test asserts the findings they cause.
PLANTED = {
    2: "admin SSH open to 0.0.0.0/0 (aws_vpc_security_group_ingress_rule.admin_ssh_anywhere)",
    3: "CloudFormation: PostgreSQL open to 0.0.0.0/0 on a publicly accessible database",
    4: "cache ingress without a description",
    5: "admin group: all traffic from var.debug_cidr (default 0.0.0.0/0) via aws_security_group_rule",
    7: "terraform.tfvars: invalid admin CIDR 10.7.0.0/33",
}


def service_name(index: int) -> str:
    return f"svc-{index:04d}"


def service_dir(index: int) -> str:
    return f"envs/{ENVS[index % len(ENVS)]}/{service_name(index)}"


# --- root module of a service ---------------------------------------------------------------


def root_main(i: int) -> str:
    app_port = 8000 + i % 900
    cache_desc = "" if i == 4 else '    description     = "Redis from the application"\n'
    text = f'''locals {{
  name     = "${{var.service}}-${{var.environment}}"
  app_port = {app_port}
  db_port  = 5432
  common_tags = {{
    Service     = var.service
    Environment = var.environment
    Team        = "team-{i % 17:02d}"
    CostCenter  = "cc-{1000 + i % 250}"
  }}
  app_ingress = [
    {{ port = local.app_port, source = aws_security_group.lb.id, why = "Traffic from the load balancer" }},
    {{ port = 22, source = aws_security_group.admin.id, why = "SSH from the bastion" }},
  ]
  db_clients = merge({{ app = aws_security_group.app.id }}, module.workers.pool_sg_map)
}}

resource "aws_security_group" "lb" {{
  name        = "${{local.name}}-lb"
  description = "Public load balancer of ${{var.service}}"
  vpc_id      = var.vpc_id

  ingress {{
    description      = "HTTPS from the internet"
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }}

  egress {{
    description = "To the application instances"
    from_port   = local.app_port
    to_port     = local.app_port
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }}

  tags = merge(local.common_tags, {{ Name = "${{local.name}}-lb", Tier = "web" }})
}}

resource "aws_security_group" "app" {{
  name        = "${{local.name}}-app"
  description = "Application instances of ${{var.service}}"
  vpc_id      = var.vpc_id

  dynamic "ingress" {{
    for_each = local.app_ingress
    content {{
      description     = ingress.value.why
      from_port       = ingress.value.port
      to_port         = ingress.value.port
      protocol        = "tcp"
      security_groups = [ingress.value.source]
    }}
  }}

  dynamic "egress" {{
    for_each = var.app_egress_ports
    iterator = port
    content {{
      description = "Port ${{port.value}} inside the VPC"
      from_port   = port.value
      to_port     = port.value
      protocol    = "tcp"
      cidr_blocks = [var.vpc_cidr]
    }}
  }}

  tags = merge(local.common_tags, {{ Name = "${{local.name}}-app", Tier = "app" }})
}}

resource "aws_security_group" "db" {{
  name        = "${{local.name}}-db"
  description = "PostgreSQL of ${{var.service}}"
  vpc_id      = var.vpc_id

  dynamic "ingress" {{
    for_each = local.db_clients
    content {{
      description     = "PostgreSQL from ${{ingress.key}}"
      from_port       = local.db_port
      to_port         = local.db_port
      protocol        = "tcp"
      security_groups = [ingress.value]
    }}
  }}

  tags = merge(local.common_tags, {{ Name = "${{local.name}}-db", Tier = "data" }})
}}

resource "aws_security_group" "cache" {{
  name        = "${{local.name}}-cache"
  description = "Redis of ${{var.service}}"
  vpc_id      = var.vpc_id

  ingress {{
{cache_desc}    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }}

  tags = merge(local.common_tags, {{ Name = "${{local.name}}-cache", Tier = "data" }})
}}

resource "aws_security_group" "admin" {{
  name        = "${{local.name}}-admin"
  description = "Bastion of ${{var.service}}"
  vpc_id      = var.vpc_id
  tags        = merge(local.common_tags, {{ Name = "${{local.name}}-admin" }})
}}

resource "aws_vpc_security_group_ingress_rule" "admin_ssh" {{
  for_each          = toset(var.admin_cidrs)
  security_group_id = aws_security_group.admin.id
  description       = "SSH from the VPN range ${{each.value}}"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value
}}

resource "aws_vpc_security_group_egress_rule" "admin_ssh" {{
  security_group_id = aws_security_group.admin.id
  description       = "SSH into the VPC"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = var.vpc_cidr
}}
'''
    text += _planted_root(i)
    text += f'''
resource "aws_lb" "web" {{
  name               = "${{local.name}}-web"
  internal           = false
  load_balancer_type = "application"
  security_groups    = [aws_security_group.lb.id]
  subnets            = var.public_subnet_ids
  tags               = local.common_tags
}}

resource "aws_lb_target_group" "app" {{
  name     = "${{local.name}}-app"
  port     = local.app_port
  protocol = "HTTP"
  vpc_id   = var.vpc_id
}}

resource "aws_lb_listener" "https" {{
  load_balancer_arn = aws_lb.web.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = var.certificate_arn

  default_action {{
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }}
}}

resource "aws_launch_template" "app" {{
  name_prefix            = "${{local.name}}-app-"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.app.id]

  metadata_options {{
    http_endpoint = "enabled"
    http_tokens   = "required"
  }}

  block_device_mappings {{
    device_name = "/dev/xvda"
    ebs {{
      volume_size = {20 + i % 30}
      encrypted   = true
    }}
  }}
}}

resource "aws_autoscaling_group" "app" {{
  name                = "${{local.name}}-app"
  min_size            = 2
  max_size            = {4 + i % 6}
  vpc_zone_identifier = var.private_subnet_ids
  target_group_arns   = [aws_lb_target_group.app.arn]

  launch_template {{
    id      = aws_launch_template.app.id
    version = "$Latest"
  }}
}}

resource "aws_db_instance" "main" {{
  identifier             = "${{local.name}}-db"
  engine                 = "postgres"
  engine_version         = "16.{i % 4}"
  instance_class         = "db.t4g.medium"
  allocated_storage      = {20 + i % 80}
  storage_encrypted      = true
  publicly_accessible    = false
  db_subnet_group_name   = var.db_subnet_group
  vpc_security_group_ids = [aws_security_group.db.id]
  tags                   = local.common_tags
}}

resource "aws_elasticache_cluster" "cache" {{
  cluster_id         = "${{local.name}}-cache"
  engine             = "redis"
  node_type          = "cache.t4g.small"
  num_cache_nodes    = 1
  subnet_group_name  = var.cache_subnet_group
  security_group_ids = [aws_security_group.cache.id]
}}

resource "aws_instance" "bastion" {{
  ami                    = var.ami_id
  instance_type          = "t3.micro"
  subnet_id              = var.private_subnet_ids[0]
  vpc_security_group_ids = [aws_security_group.admin.id]

  metadata_options {{
    http_tokens = "required"
  }}

  root_block_device {{
    encrypted = true
  }}

  tags = merge(local.common_tags, {{ Name = "${{local.name}}-bastion" }})
}}

module "workers" {{
  source     = "./modules/workers"
  name       = local.name
  vpc_id     = var.vpc_id
  vpc_cidr   = var.vpc_cidr
  app_sg_id  = aws_security_group.app.id
  subnet_ids = var.private_subnet_ids
  pools      = var.worker_pools
  tags       = local.common_tags
}}
'''
    return text


def _planted_root(i: int) -> str:
    if i == 2:
        return '''
resource "aws_vpc_security_group_ingress_rule" "admin_ssh_anywhere" {
  security_group_id = aws_security_group.admin.id
  description       = "Temporary: SSH for the vendor"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = "0.0.0.0/0"
}
'''
    if i == 5:
        return '''
variable "debug_cidr" {
  type    = string
  default = "0.0.0.0/0"
}

resource "aws_security_group_rule" "admin_debug" {
  type              = "ingress"
  security_group_id = aws_security_group.admin.id
  description       = "Debugging access"
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
  cidr_blocks       = [var.debug_cidr]
}
'''
    return ""


def root_variables(i: int) -> str:
    base = 9100 + (i % 40) * 10
    return f'''variable "service" {{
  type        = string
  description = "Service name"
}}

variable "environment" {{
  type = string
}}

variable "vpc_id" {{
  type = string
}}

variable "vpc_cidr" {{
  type = string
}}

variable "public_subnet_ids" {{
  type = list(string)
}}

variable "private_subnet_ids" {{
  type = list(string)
}}

variable "admin_cidrs" {{
  type    = list(string)
  default = ["10.250.{i % 250}.0/24"]
}}

variable "app_egress_ports" {{
  type    = list(number)
  default = [443, 5432, 6379, {base}]
}}

variable "worker_pools" {{
  type = map(object({{ ports = list(number), size = number }}))
  default = {{
    ingest = {{ ports = [{base}], size = {1 + i % 3} }}
    render = {{ ports = [{base + 1}, {base + 2}], size = 2 }}
    report = {{ ports = [{base + 3}], size = 1 }}
  }}
}}

variable "ami_id" {{
  type    = string
  default = "ami-0{i:07d}abcdef12"
}}

variable "instance_type" {{
  type    = string
  default = "t3.medium"
}}

variable "certificate_arn" {{
  type    = string
  default = "arn:aws:acm:eu-west-1:123456789012:certificate/{i:08d}-0000-4000-8000-000000000000"
}}

variable "db_subnet_group" {{
  type    = string
  default = "db-private"
}}

variable "cache_subnet_group" {{
  type    = string
  default = "cache-private"
}}
'''


def root_tfvars(i: int) -> str:
    env = ENVS[i % len(ENVS)]
    vpc, cidr = ENV_VPC[env]
    second = cidr.split(".")[1]
    admin = '["10.7.0.0/33"]' if i == 7 else f'["10.250.{i % 250}.0/24", "10.251.{i % 250}.0/24"]'
    return f'''service            = "{service_name(i)}"
environment        = "{env}"
vpc_id             = "{vpc}"
vpc_cidr           = "{cidr}"
public_subnet_ids  = ["subnet-0{second}a{i:06d}", "subnet-0{second}b{i:06d}"]
private_subnet_ids = ["subnet-1{second}a{i:06d}", "subnet-1{second}b{i:06d}"]
admin_cidrs        = {admin}
'''


def root_outputs(i: int) -> str:
    return f"# Outputs of {service_name(i)}.\n\n" + ROOT_OUTPUTS


ROOT_OUTPUTS = '''output "lb_dns_name" {
  value = aws_lb.web.dns_name
}

output "group_ids" {
  value = {
    lb    = aws_security_group.lb.id
    app   = aws_security_group.app.id
    db    = aws_security_group.db.id
    cache = aws_security_group.cache.id
  }
}

output "worker_groups" {
  value = module.workers.pool_sg_ids
}
'''


# --- the local workers module -----------------------------------------------------------------


def workers_main(i: int) -> str:
    return f'''# Worker pools of {service_name(i)}: one group, launch template and autoscaling group per pool.

resource "aws_security_group" "pool" {{
  for_each    = var.pools
  name        = "${{var.name}}-${{each.key}}"
  description = "Worker pool ${{each.key}}"
  vpc_id      = var.vpc_id

  dynamic "ingress" {{
    for_each = each.value.ports
    content {{
      description     = "Port ${{ingress.value}} from the application"
      from_port       = ingress.value
      to_port         = ingress.value
      protocol        = "tcp"
      security_groups = [var.app_sg_id]
    }}
  }}

  egress {{
    description = "HTTPS to VPC endpoints"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }}

  tags = merge(var.tags, {{ Name = "${{var.name}}-${{each.key}}", Pool = each.key }})
}}

resource "aws_security_group" "endpoint" {{
  name        = "${{var.name}}-endpoints"
  description = "Interface endpoints used by the workers"
  vpc_id      = var.vpc_id

  ingress {{
    description     = "HTTPS from the worker pools"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    security_groups = concat([for pool in aws_security_group.pool : pool.id], [aws_security_group.batch.id])
  }}

  tags = var.tags
}}

resource "aws_security_group" "batch" {{
  name        = "${{var.name}}-batch"
  description = "Batch jobs of ${{var.name}}"
  vpc_id      = var.vpc_id

  egress {{
    description = "HTTPS inside the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }}

  tags = var.tags
}}

resource "aws_launch_template" "pool" {{
  for_each               = var.pools
  name_prefix            = "${{var.name}}-${{each.key}}-"
  image_id               = "ami-0{i:07d}fedcba21"
  instance_type          = "c6g.large"
  vpc_security_group_ids = [aws_security_group.pool[each.key].id]

  metadata_options {{
    http_tokens = "required"
  }}
}}

resource "aws_autoscaling_group" "pool" {{
  for_each            = var.pools
  name                = "${{var.name}}-${{each.key}}"
  min_size            = each.value.size
  max_size            = each.value.size * 2
  vpc_zone_identifier = var.subnet_ids

  launch_template {{
    id      = aws_launch_template.pool[each.key].id
    version = "$Latest"
  }}
}}

resource "aws_vpc_endpoint" "sqs" {{
  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.eu-west-1.sqs"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = var.subnet_ids
  security_group_ids  = [aws_security_group.endpoint.id]
}}

resource "aws_batch_compute_environment" "jobs" {{
  compute_environment_name = "${{var.name}}-jobs"
  type                     = "MANAGED"

  compute_resources {{
    type               = "FARGATE"
    max_vcpus          = {8 + i % 24}
    subnets            = var.subnet_ids
    security_group_ids = [aws_security_group.batch.id]
  }}
}}
'''


WORKERS_VARIABLES = '''variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "vpc_cidr" {
  type = string
}

variable "app_sg_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "pools" {
  type = map(object({ ports = list(number), size = number }))
}

variable "tags" {
  type    = map(string)
  default = {}
}
'''

WORKERS_OUTPUTS = '''output "pool_sg_ids" {
  value = [for pool in aws_security_group.pool : pool.id]
}

output "pool_sg_map" {
  value = { for name, pool in aws_security_group.pool : "worker-${name}" => pool.id }
}
'''


def workers_variables(i: int) -> str:
    return f"# Inputs of the workers module of {service_name(i)}.\n\n" + WORKERS_VARIABLES


def workers_outputs(i: int) -> str:
    return f"# Outputs of the workers module of {service_name(i)}.\n\n" + WORKERS_OUTPUTS


# --- CloudFormation stack beside the Terraform ---------------------------------------------------


def cfn_stack(i: int) -> str:
    env = ENVS[i % len(ENVS)]
    vpc, cidr = ENV_VPC[env]
    port = 5672 + i % 50
    public = i == 3
    db_ingress = ('''        - IpProtocol: tcp
          FromPort: 5432
          ToPort: 5432
          CidrIp: 0.0.0.0/0
          Description: Reporting tool (temporary)''' if public else '''        - IpProtocol: tcp
          FromPort: 5432
          ToPort: 5432
          SourceSecurityGroupId: !GetAtt ConsumerSecurityGroup.GroupId
          Description: PostgreSQL from the consumers''')
    return f'''AWSTemplateFormatVersion: "2010-09-09"
Description: Messaging stack of {service_name(i)} ({env})
Parameters:
  Environment:
    Type: String
    Default: {env}
  VpcId:
    Type: AWS::EC2::VPC::Id
    Default: {vpc}
  VpcCidr:
    Type: String
    Default: {cidr}
  SubnetId:
    Type: AWS::EC2::Subnet::Id
    Default: subnet-2{i:08d}
Resources:
  BrokerSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "Message broker of {service_name(i)} in ${{Environment}}"
      VpcId: !Ref VpcId
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: {port}
          ToPort: {port}
          SourceSecurityGroupId: !Ref ConsumerSecurityGroup
          Description: AMQP from the consumers
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: !Ref VpcCidr
          Description: HTTPS inside the VPC
  ConsumerSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Consumers of {service_name(i)}
      VpcId: !Ref VpcId
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: {port}
          ToPort: {port}
          CidrIp: !Ref VpcCidr
          Description: AMQP inside the VPC
  ReportingDbSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Reporting database of {service_name(i)}
      VpcId: !Ref VpcId
      SecurityGroupIngress:
{db_ingress}
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: !Ref VpcCidr
          Description: HTTPS inside the VPC
  ConsumerFromBroker:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !GetAtt ConsumerSecurityGroup.GroupId
      IpProtocol: tcp
      FromPort: 8080
      ToPort: 8080
      SourceSecurityGroupId: !GetAtt BrokerSecurityGroup.GroupId
      Description: Callbacks from the broker
  BrokerInstance:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0{i:07d}0badc0de
      InstanceType: m6g.large
      SubnetId: !Ref SubnetId
      SecurityGroupIds:
        - !GetAtt BrokerSecurityGroup.GroupId
      MetadataOptions:
        HttpTokens: required
      BlockDeviceMappings:
        - DeviceName: /dev/xvda
          Ebs:
            Encrypted: true
            VolumeSize: 40
  ConsumerFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub "{service_name(i)}-${{Environment}}-consumer"
      Runtime: python3.12
      Handler: app.handler
      Role: arn:aws:iam::123456789012:role/consumer
      Code:
        ZipFile: "def handler(event, context): return None"
      VpcConfig:
        SubnetIds:
          - !Ref SubnetId
        SecurityGroupIds:
          - !Ref ConsumerSecurityGroup
  ReportingDatabase:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.small
      AllocatedStorage: "20"
      StorageEncrypted: true
      PubliclyAccessible: {"true" if public else "false"}
      VPCSecurityGroups:
        - !GetAtt ReportingDbSecurityGroup.GroupId
'''


# --- shared platform roots ---------------------------------------------------------------


def network_main(env: str) -> str:
    vpc, cidr = ENV_VPC[env]
    return f'''# The {env} VPC ({vpc} once applied) and its flow log.

resource "aws_vpc" "main" {{
  cidr_block           = "{cidr}"
  enable_dns_hostnames = true
  tags = {{
    Name        = "{env}"
    Environment = "{env}"
  }}
}}

resource "aws_flow_log" "main" {{
  vpc_id               = aws_vpc.main.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = "arn:aws:s3:::flow-logs-{env}"
}}

resource "aws_default_security_group" "default" {{
  vpc_id = aws_vpc.main.id
}}
'''


AUDIT_MAIN = '''# Account-wide audit: CloudTrail in every region, an alert on security-group changes, AWS Config.

resource "aws_cloudtrail" "main" {
  name                          = "organization-trail"
  s3_bucket_name                = "audit-trail-logs"
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  enable_logging                = true
}

resource "aws_cloudwatch_event_rule" "security_group_changes" {
  name        = "security-group-changes"
  description = "Alert on every security-group change"
  event_pattern = jsonencode({
    source      = ["aws.ec2"]
    detail-type = ["AWS API Call via CloudTrail"]
    detail = {
      eventName = [
        "CreateSecurityGroup", "DeleteSecurityGroup", "ModifySecurityGroupRules",
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
      ]
    }
  })
}

resource "aws_cloudwatch_event_target" "security_group_changes" {
  rule = aws_cloudwatch_event_rule.security_group_changes.name
  arn  = "arn:aws:sns:eu-west-1:123456789012:security-alerts"
}

resource "aws_config_configuration_recorder" "main" {
  name     = "default"
  role_arn = "arn:aws:iam::123456789012:role/config"

  recording_group {
    all_supported = true
  }
}

resource "aws_config_delivery_channel" "main" {
  name           = "default"
  s3_bucket_name = "audit-config-logs"
  depends_on     = [aws_config_configuration_recorder.main]
}
'''


# --- writing ----------------------------------------------------------------------------------


def service_files(i: int) -> dict[str, str]:
    """The files of service ``i`` (paths relative to the estate root)."""
    base = service_dir(i)
    files = {
        f"{base}/main.tf": root_main(i),
        f"{base}/variables.tf": root_variables(i),
        f"{base}/outputs.tf": root_outputs(i),
        f"{base}/terraform.tfvars": root_tfvars(i),
        f"{base}/modules/workers/main.tf": workers_main(i),
        f"{base}/modules/workers/variables.tf": workers_variables(i),
        f"{base}/modules/workers/outputs.tf": workers_outputs(i),
    }
    if i % 3 == 0:
        files[f"{base}/cfn/stack.yaml"] = cfn_stack(i)
    return files


def estate_files(size: str) -> dict[str, str]:
    """Every file of an estate of ``size`` (S, M or L)."""
    files: dict[str, str] = {"global/audit/main.tf": AUDIT_MAIN}
    for env in ENVS:
        files[f"envs/{env}/network/main.tf"] = network_main(env)
    for i in range(SIZES[size]):
        files.update(service_files(i))
    files["README.md"] = (f"Synthetic estate of size {size} generated by iacscan's scripts/gen_estate.py "
                          f"({SIZES[size]} services). Planted mistakes:\n"
                          + "".join(f"- {service_name(k)}: {v}\n" for k, v in PLANTED.items()))
    return files


def generate(size: str, out: Path) -> dict[str, int]:
    """Write an estate of ``size`` into ``out`` (emptied first); returns a few counts."""
    size = size.upper()
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r} (choose from {', '.join(SIZES)})")
    if out.exists():
        shutil.rmtree(out)
    files = estate_files(size)
    total = 0
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    n = SIZES[size]
    stacks = len(range(0, n, 3))
    return {"services": n, "module_dirs": 2 * n + 4, "files": len(files), "bytes": total,
            "tf_groups": 10 * n + len(ENVS), "cfn_groups": 3 * stacks, "cfn_stacks": stacks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", required=True, type=str.upper, choices=sorted(SIZES))
    parser.add_argument("--out", required=True, type=Path, help="directory to (re)create")
    args = parser.parse_args(argv)
    counts = generate(args.size, args.out)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
