"""A small real estate created through the AWS API (moto): what the live tests snapshot.

- VPC ``10.0.0.0/16`` (tag Environment=prod) with a public subnet (route 0.0.0.0/0 → IGW,
  public IPs on launch) and a second subnet for the database subnet group;
- group ``web``: SSH (22) from 0.0.0.0/0, HTTPS (443) from ::/0, 8080 from itself;
- group ``db``: 5432 from ``web``, all traffic from the customer prefix list ``office``
  (203.0.113.0/24); both keep AWS's allow-all egress;
- instance ``app`` carrying ``web`` and ``db`` with a public IP, IMDSv2 required;
- RDS PostgreSQL instance ``orders`` in ``db``, not publicly accessible;
- an unattached encrypted EBS volume and an unencrypted one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class World:
    vpc: str
    subnet: str
    subnet_b: str
    igw: str
    web: str
    db: str
    prefix_list: str
    instance: str
    db_instance: str
    plain_volume: str
    encrypted_volume: str


def build_world(aws_client: Callable[..., Any]) -> World:
    ec2 = aws_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Environment", "Value": "prod"}]}])["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    web = _group(ec2, vpc, "web", "Web servers")
    db = _group(ec2, vpc, "db", "Databases")
    plist = ec2.create_managed_prefix_list(PrefixListName="office", AddressFamily="IPv4", MaxEntries=5,
                                           Entries=[{"Cidr": "203.0.113.0/24", "Description": "office"}],
                                           )["PrefixList"]["PrefixListId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "ssh"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": web}]},
    ])
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": web}]},
        {"IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "PrefixListIds": [{"PrefixListId": plist}]},
    ])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [web, db], "AssociatePublicIpAddress": True}],
        MetadataOptions={"HttpTokens": "required"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "app"}]}],
    )["Instances"][0]["InstanceId"]
    rds = aws_client("rds")
    rds.create_db_subnet_group(DBSubnetGroupName="orders", DBSubnetGroupDescription="orders",
                               SubnetIds=[subnet, subnet_b])
    rds.create_db_instance(DBInstanceIdentifier="orders", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="admin", MasterUserPassword="not-a-secret-123", AllocatedStorage=20,
                           VpcSecurityGroupIds=[db], DBSubnetGroupName="orders", PubliclyAccessible=False)
    plain = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    encrypted = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True)["VolumeId"]
    return World(vpc, subnet, subnet_b, igw, web, db, plist, instance, "orders", plain, encrypted)


def _group(ec2: Any, vpc: str, name: str, description: str) -> str:
    return ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc)["GroupId"]
