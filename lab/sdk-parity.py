"""openstacksdk against Ferric, the way its users call it: runbooks (with traits),
inspection rules, volume connectors and targets, and a node's instance_name.

    python lab/sdk-parity.py ENDPOINT RUN

Run with the lab's client virtualenv (lab/ironicclient-smoke.sh does). Everything
made is named after RUN and removed before the script ends; any failure raises.
"""

import sys

import openstack


def main(endpoint, run):
    conn = openstack.connection.Connection(
        auth_type="none", baremetal_endpoint_override=endpoint + "/"
    )
    bm = conn.baremetal

    node = bm.create_node(driver="fake-hardware", name=f"sdk-node-{run}")
    try:
        bm.update_node(node, instance_name=f"sdk-instance-{run}")
        assert bm.get_node(node.id).instance_name == f"sdk-instance-{run}"

        rb = bm.create_runbook(
            name=f"sdk-runbook-{run}",
            steps=[{"interface": "deploy", "step": "erase_devices", "args": {}, "order": 1}],
        )
        bm.add_runbook_trait(rb, "CUSTOM_SDK")
        got = bm.get_runbook(rb.id)
        assert got.traits == ["CUSTOM_SDK"], got.traits
        assert any(r.id == rb.id for r in bm.runbooks())
        bm.delete_runbook(rb)

        rule = bm.create_inspection_rule(
            description=f"sdk-{run}",
            actions=[{"op": "set-attribute", "args": {"path": "/extra/sdk", "value": run}}],
        )
        assert any(r.id == rule.id for r in bm.inspection_rules())
        bm.delete_inspection_rule(rule)

        vc = bm.create_volume_connector(
            node_id=node.id, type="iqn", connector_id=f"iqn.2026-12.org.sdk:{run}"
        )
        vt = bm.create_volume_target(
            node_id=node.id, volume_type="iscsi", boot_index=0, volume_id=f"sdk-vol-{run}"
        )
        assert [c.id for c in bm.volume_connectors(node=node.id)] == [vc.id]
        assert [t.id for t in bm.volume_targets(node=node.id)] == [vt.id]
        bm.delete_volume_target(vt)
        bm.delete_volume_connector(vc)
    finally:
        bm.delete_node(node)
    print("openstacksdk: all calls answered as expected")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2])
