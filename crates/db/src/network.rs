//! Rows of the network service: networks, subnets and VIF ports. Updates are
//! optimistic (guarded by the `updated_at` read), like the other resources.

use ferric_types::net::{Network, Subnet, VifPort};
use ferric_types::{NetworkId, NodeId, Port, PortGroup, SubnetId, Timestamp, VifPortId};

use crate::query::{Cond, ListQuery};
use crate::table::{Table, NETWORKS, SUBNETS, VIF_PORTS};
use crate::{Datastore, DbError, UpdateOutcome};

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
        self.insert_row(&NETWORKS, n).await
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
        self.update_row_if_unchanged(&NETWORKS, &n.uuid.to_string(), n, expected.as_deref())
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
        self.insert_row(&VIF_PORTS, p).await
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
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&VIF_PORTS, &p.uuid.to_string(), p, expected.as_deref())
            .await
    }

    pub async fn vif_port_delete(&self, uuid: VifPortId) -> Result<(), DbError> {
        self.delete_by_uuid(&VIF_PORTS, uuid.to_string()).await
    }
}
