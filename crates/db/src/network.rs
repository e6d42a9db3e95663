//! Rows of the network service: networks, subnets and VIF ports. Updates are
//! optimistic (guarded by the `updated_at` read), like the other resources. The
//! database keeps what must be unique across processes: a network's segment
//! (`segment`, one VLAN of a physical network or its flat network: a clash is
//! `Duplicate("segment")`) and each fixed IP within its subnet (the `fixed_ips`
//! rows a VIF port's writes keep in step, in one transaction: a clash is
//! `Duplicate("ip_address")`).

use ferric_types::net::{Network, Subnet, VifPort};
use ferric_types::{NetworkId, NodeId, Port, PortGroup, SubnetId, Timestamp, VifPortId};

use crate::query::{insert_statement, Cond, ListQuery, Sql, Value};
use crate::table::{Table, NETWORKS, SUBNETS, VIF_PORTS};
use crate::{Datastore, DbError, UpdateOutcome};

/// The segment a network claims: `<physnet>:vlan:<id>` or `<physnet>:flat`.
fn segment(n: &Network) -> Option<String> {
    let physnet = n.physical_network.as_deref().filter(|p| !p.is_empty())?;
    match (n.network_type.as_str(), n.segmentation_id) {
        ("vlan", Some(id)) => Some(format!("{physnet}:vlan:{id}")),
        ("flat", _) => Some(format!("{physnet}:flat")),
        _ => None,
    }
}

/// The network's row: its fields and the segment it claims.
fn network_row(n: &Network) -> Result<serde_json::Value, DbError> {
    let mut row = serde_json::to_value(n).map_err(|e| DbError::Corrupt(e.to_string()))?;
    row["segment"] = segment(n).map_or(serde_json::Value::Null, serde_json::Value::String);
    Ok(row)
}

/// The statements that make `fixed_ips` hold exactly the port's addresses.
fn fixed_ip_rows(p: &VifPort) -> Vec<Sql> {
    let mut stmts = Vec::with_capacity(p.fixed_ips.len() + 1);
    let mut clear = Sql::default();
    clear
        .push("DELETE FROM fixed_ips WHERE port_uuid = ")
        .arg(p.uuid.to_string().into());
    stmts.push(clear);
    for ip in &p.fixed_ips {
        let mut add = Sql::default();
        add.push("INSERT INTO fixed_ips (subnet_uuid, ip_address, port_uuid) VALUES (")
            .arg(ip.subnet_id.to_string().into())
            .push(", ")
            .arg(Value::Text(ip.ip_address.clone()))
            .push(", ")
            .arg(p.uuid.to_string().into())
            .push(")");
        stmts.push(add);
    }
    stmts
}

fn on_network(network: NetworkId) -> ListQuery {
    ListQuery {
        conds: vec![Cond::Eq("network_uuid", network.to_string().into())],
        ..ListQuery::default()
    }
}

impl Datastore {
    /// Deletes the row with `uuid`; `NotFound` when there is none.
    pub(crate) async fn delete_by_uuid(&self, table: &Table, uuid: String) -> Result<(), DbError> {
        match self
            .delete_rows(table, &[Cond::Eq("uuid", uuid.into())])
            .await?
        {
            0 => Err(DbError::NotFound),
            _ => Ok(()),
        }
    }

    pub async fn network_create(&self, n: &Network) -> Result<(), DbError> {
        self.insert_row(&NETWORKS, &network_row(n)?).await
    }

    pub async fn network_get(&self, uuid: NetworkId) -> Result<Network, DbError> {
        self.get_row(&NETWORKS, "uuid", &uuid.to_string()).await
    }

    pub async fn network_list(&self, q: &ListQuery) -> Result<Vec<Network>, DbError> {
        self.list_rows(&NETWORKS, q).await
    }

    pub async fn network_update(
        &self,
        n: &Network,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(
            &NETWORKS,
            &n.uuid.to_string(),
            &network_row(n)?,
            expected.as_deref(),
        )
        .await
    }

    /// A network's subnets.
    pub async fn subnets_of(&self, network: NetworkId) -> Result<Vec<Subnet>, DbError> {
        self.subnet_list(&on_network(network)).await
    }

    /// A network's VIF ports.
    pub async fn vif_ports_of(&self, network: NetworkId) -> Result<Vec<VifPort>, DbError> {
        self.vif_port_list(&on_network(network)).await
    }

    /// A node's port groups and ports.
    pub async fn nics_of(&self, node: NodeId) -> Result<(Vec<PortGroup>, Vec<Port>), DbError> {
        let q = ListQuery {
            conds: vec![Cond::Eq("node_uuid", node.to_string().into())],
            ..ListQuery::default()
        };
        Ok((self.portgroup_list(&q).await?, self.port_list(&q).await?))
    }

    pub async fn network_delete(&self, uuid: NetworkId) -> Result<(), DbError> {
        self.delete_by_uuid(&NETWORKS, uuid.to_string()).await
    }

    pub async fn subnet_create(&self, s: &Subnet) -> Result<(), DbError> {
        self.insert_row(&SUBNETS, s).await
    }

    pub async fn subnet_get(&self, uuid: SubnetId) -> Result<Subnet, DbError> {
        self.get_row(&SUBNETS, "uuid", &uuid.to_string()).await
    }

    pub async fn subnet_list(&self, q: &ListQuery) -> Result<Vec<Subnet>, DbError> {
        self.list_rows(&SUBNETS, q).await
    }

    pub async fn subnet_update(
        &self,
        s: &Subnet,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&SUBNETS, &s.uuid.to_string(), s, expected.as_deref())
            .await
    }

    pub async fn subnet_delete(&self, uuid: SubnetId) -> Result<(), DbError> {
        self.delete_by_uuid(&SUBNETS, uuid.to_string()).await
    }

    pub async fn vif_port_create(&self, p: &VifPort) -> Result<(), DbError> {
        let mut stmts = vec![insert_statement(&VIF_PORTS, p)?];
        stmts.extend(fixed_ip_rows(p));
        self.execute_all(stmts).await?;
        Ok(())
    }

    pub async fn vif_port_get(&self, uuid: VifPortId) -> Result<VifPort, DbError> {
        self.get_row(&VIF_PORTS, "uuid", &uuid.to_string()).await
    }

    pub async fn vif_port_list(&self, q: &ListQuery) -> Result<Vec<VifPort>, DbError> {
        self.list_rows(&VIF_PORTS, q).await
    }

    pub async fn vif_port_update(
        &self,
        p: &VifPort,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let mut update = Sql::default();
        update.push("UPDATE vif_ports SET ");
        for (i, ((col, _), v)) in VIF_PORTS
            .columns
            .iter()
            .zip(VIF_PORTS.encode(p)?)
            .enumerate()
        {
            if i > 0 {
                update.push(", ");
            }
            update.push(col).push(" = ").arg(v);
        }
        update.push(" WHERE uuid = ").arg(p.uuid.to_string().into());
        match read_updated_at {
            Some(t) => update.push(" AND updated_at = ").arg(t.to_string().into()),
            None => update.push(" AND updated_at IS NULL"),
        };
        update.must_affect = true;
        let mut stmts = vec![update];
        stmts.extend(fixed_ip_rows(p));
        match self.execute_all(stmts).await {
            Ok(_) => Ok(UpdateOutcome::Updated),
            Err(DbError::NotFound) => self.missed_update(&VIF_PORTS, &p.uuid.to_string()).await,
            Err(e) => Err(e),
        }
    }

    pub async fn vif_port_delete(&self, uuid: VifPortId) -> Result<(), DbError> {
        let mut ips = Sql::default();
        ips.push("DELETE FROM fixed_ips WHERE port_uuid = ")
            .arg(uuid.to_string().into());
        let mut port = Sql::default();
        port.push("DELETE FROM vif_ports WHERE uuid = ")
            .arg(uuid.to_string().into());
        port.must_affect = true;
        self.execute_all(vec![ips, port]).await?;
        Ok(())
    }
}
