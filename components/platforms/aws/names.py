"""The names of the AWS platform's resources: the VPCs and their peerings, each EKS cluster, the
security rules between clusters and the CA copies; see ``components.config.names``."""

from __future__ import annotations

from components.config.names import NameTemplate

ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

# Reads provided intermediates from Secrets Manager before any resource (components/platforms/aws/ca_store.py).
CA_STORE_PROVIDER = NameTemplate(
    "pulumi:providers:aws", "ca-store-{region}", "the AWS provider that reads provided intermediates in {region}"
)
NETWORK = NameTemplate("istio-multicluster:aws:Network", "aws", "the AWS network")
REGION_PROVIDER = NETWORK.child("pulumi:providers:aws", "{network}-{region}", "the AWS provider of {region}")
# A fleet member's provider of its cluster's region, named as one stack names it, at its stack's top.
MEMBER_REGION_PROVIDER = NameTemplate("pulumi:providers:aws", "{network}-{region}", "a fleet member's AWS provider of {region}")
VPC = NETWORK.child("aws:ec2/vpc:Vpc", "{network}-{vpc}-vpc", "vpc {vpc}")
INTERNET_GATEWAY = NETWORK.child("aws:ec2/internetGateway:InternetGateway", "{network}-{vpc}-igw", "vpc {vpc}'s internet gateway")
PUBLIC_TABLE = NETWORK.child(ROUTE_TABLE, "{network}-{vpc}-public-rt", "vpc {vpc}'s public route table")
SUBNET = NETWORK.child("aws:ec2/subnet:Subnet", "{network}-{vpc}-{role}-subnet-{index}", "vpc {vpc}'s {role} subnet {index}")
PUBLIC_ASSOCIATION = NETWORK.child(ASSOCIATION, "{network}-{vpc}-public-assoc-{index}", "vpc {vpc}'s public subnet {index} route")
NAT_ADDRESS = NETWORK.child("aws:ec2/eip:Eip", "{network}-{vpc}-nat-eip-{index}", "vpc {vpc}'s NAT address {index}")
NAT = NETWORK.child("aws:ec2/natGateway:NatGateway", "{network}-{vpc}-nat-{index}", "vpc {vpc}'s NAT gateway {index}")
PRIVATE_TABLE = NETWORK.child(ROUTE_TABLE, "{network}-{vpc}-private-rt-{index}", "vpc {vpc}'s private route table {index}")
PRIVATE_DEFAULT = NETWORK.child(ROUTE, "{network}-{vpc}-private-rt-{index}-default", "vpc {vpc}'s private default route {index}")
PRIVATE_ASSOCIATION = NETWORK.child(ASSOCIATION, "{network}-{vpc}-private-assoc-{index}", "vpc {vpc}'s private subnet {index} route")
PEERING = NETWORK.child(
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "{network}-peering-{first}-{second}", "the peering of vpcs {first} and {second}"
)
PEERING_ACCEPTER = NETWORK.child(
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
    "{network}-peering-{first}-{second}-accepter",
    "the acceptance of the peering of vpcs {first} and {second}",
)
PEER_ROUTE = NETWORK.child(ROUTE, "{network}-peering-{vpc}-{index}-to-{other}", "vpc {vpc}'s route {index} to vpc {other}")

EKS = NameTemplate("istio-multicluster:aws:EksCluster", "{cluster}", "EKS cluster {cluster}")
EKS_CLUSTER = EKS.child("eks:index:Cluster", "{eks}-eks", "cluster {cluster}'s pulumi-eks Cluster")
NODE_GROUP = EKS.child("eks:index:ManagedNodeGroup", "{eks}-{group}", "node group {group} of cluster {cluster}")
PROVIDER = EKS.child("pulumi:providers:kubernetes", "{eks}-provider", "cluster {cluster}'s kubernetes provider")
NODE_ROLE = EKS.child(ROLE, "{eks}-node-role", "cluster {cluster}'s node role")
NODE_POLICY = EKS.child(ATTACHMENT, "{eks}-node-{policy}", "cluster {cluster}'s node role's {policy}")
CONTROLLER_ROLE = EKS.child(ROLE, "{eks}-lbc-role", "cluster {cluster}'s load balancer controller role")
CONTROLLER_POLICY = EKS.child("aws:iam/policy:Policy", "{eks}-lbc-policy", "cluster {cluster}'s load balancer controller policy")
CONTROLLER_ATTACHMENT = EKS.child(ATTACHMENT, "{eks}-lbc", "cluster {cluster}'s load balancer controller policy attachment")
CONTROLLER = EKS.child(HELM_RELEASE, "{eks}-aws-load-balancer-controller", "cluster {cluster}'s load balancer controller")
METRICS_SERVER = EKS.child(HELM_RELEASE, "{eks}-metrics-server", "cluster {cluster}'s metrics-server")
COREDNS = EKS.child("aws:eks/addon:Addon", "{eks}-coredns", "cluster {cluster}'s CoreDNS add-on")
# The AWS-managed policies of the node role; each one's attachment is named after it.
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")

SECURITY = NameTemplate("istio-multicluster:aws:MeshSecurity", "aws-mesh", "the rules between EKS clusters")
WEBHOOK_RULE = SECURITY.child(INGRESS_RULE, "{security}-{cluster}-webhook-{port}", "cluster {cluster}'s webhook rule on port {port}")
API_RULE = SECURITY.child(INGRESS_RULE, "{security}-{admits}-api-from-{source}", "cluster {admits}'s API rule for cluster {source}")
PEER_RULE = SECURITY.child(INGRESS_RULE, "{security}-{admits}-from-{source}", "cluster {admits}'s rule for cluster {source}")
SIDECAR_PEER_RULE = SECURITY.child(
    INGRESS_RULE, "{security}-{admits}-from-{source}-sidecar", "cluster {admits}'s sidecar east-west rule for cluster {source}"
)
# Peers admitted by their VPC's range: one rule per VPC and ports, whichever peers there need it
# (AWS refuses a second rule of the same group, protocol, ports and range: InvalidPermission.Duplicate).
API_RANGE_RULE = SECURITY.child(INGRESS_RULE, "{security}-{admits}-api-from-vpc-{vpc}", "cluster {admits}'s API rule for VPC {vpc}")
PEER_RANGE_RULE = SECURITY.child(
    INGRESS_RULE, "{security}-{admits}-from-vpc-{vpc}-{ports}", "cluster {admits}'s rule for VPC {vpc} on {ports}"
)
SIDECAR_RANGE_RULE = SECURITY.child(
    INGRESS_RULE, "{security}-{admits}-from-vpc-{vpc}-sidecar", "cluster {admits}'s sidecar east-west rule for VPC {vpc}"
)

EDGE_CERTIFICATES = NameTemplate(
    "istio-multicluster:aws:EdgeCertificates", "edge-certificates", "the ACM certificates the program requests for the ALB edges"
)
EDGE_CERTIFICATE = EDGE_CERTIFICATES.child("aws:acm/certificate:Certificate", "{certificates}-{region}", "the edge certificate in {region}")
EDGE_ROUTE53 = EDGE_CERTIFICATES.child(
    "pulumi:providers:aws", "{certificates}-route53", "the AWS provider of the edge certificates' validation record"
)
EDGE_VALIDATION_RECORD = EDGE_CERTIFICATES.child(
    "aws:route53/record:Record", "{certificates}-validation", "the edge certificates' DNS validation record"
)
EDGE_VALIDATION = EDGE_CERTIFICATES.child(
    "aws:acm/certificateValidation:CertificateValidation",
    "{certificates}-{region}-validation",
    "the edge certificate's validation in {region}",
)

SECRETS = NameTemplate("istio-multicluster:aws:MeshSecretsManager", "mesh-secrets", "the Secrets Manager CA copies")
SECRET = SECRETS.child("aws:secretsmanager/secret:Secret", "{secrets}-{item}", "the CA copy {item}")
SECRET_VERSION = SECRETS.child("aws:secretsmanager/secretVersion:SecretVersion", "{secrets}-{item}", "the CA copy {item}'s value")
ROOT_ITEM = "root-cert"
# The items of each cluster's CA copies (its Secrets Manager names end in <cluster>/<item>).
CLUSTER_ITEMS = ("ca-cert", "ca-key", "cert-chain")


def cluster_item(cluster: str, item: str) -> str:
    """The key of a cluster's CA copy: its Secrets Manager name ends in it."""
    return f"{cluster}/{item}"


def item_resource(key: str) -> str:
    """How a CA copy's key goes into its resource names (a "/" has no place there)."""
    return key.replace("/", "-")
