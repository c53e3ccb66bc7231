"""istio-multicluster: wiring only. Stack config -> MeshSpec -> one stack, or a fleet's mesh or member stack."""

import pulumi

from components.collector import make_full_collections_rare
from components.config.load import load_mesh_spec, project_values, secret_project_keys, set_project_values
from components.config.parse import project_fields
from components.config.stores import ROUTE53_ZONES
from components.dns.zones import route53_zone_reader
from components.fleet.contract import MEMBER_CONFIG
from components.fleet.member_config import fleet_member
from components.fleet.member_stack import build_fleet_member
from components.fleet.mesh_stack import build_fleet_mesh
from components.platforms import platform_configs
from components.single_stack import build_single_stack

make_full_collections_rare()
config = pulumi.Config()
member = fleet_member(config.get_object(MEMBER_CONFIG), set_project_values(config), project_fields(platform_configs()))
if member is not None:
    build_fleet_member(member)
else:
    spec = load_mesh_spec(config, platform_configs(), {ROUTE53_ZONES: route53_zone_reader()})
    if spec.fleet_mesh:
        build_fleet_mesh(spec, project_values(config, platform_configs()), platform_configs(), secret_project_keys())
    else:
        build_single_stack(spec)
