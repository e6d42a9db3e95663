//! Boot configs (each netbooting node's iPXE script and kernel and ramdisk sources)
//! and the sources behind the image cache's keys: what lets any boot process serve
//! what any conductor prepared.

use ferric_types::boot_config::BootConfig;
use ferric_types::{NodeId, Timestamp};

use crate::exec::Scalar;
use crate::query::{Sql, Value};
use crate::{Datastore, DbError};

impl Datastore {
    /// Records (or replaces) a node's boot config.
    pub async fn boot_config_put(&self, config: &BootConfig) -> Result<(), DbError> {
        let mut sql = Sql::default();
        sql.push("INSERT INTO boot_configs (node_uuid, script, kernel, ramdisk, updated_at) VALUES (")
            .arg(config.node_uuid.to_string().into())
            .push(", ")
            .arg(config.script.as_str().into())
            .push(", ")
            .arg(config.kernel.as_str().into())
            .push(", ")
            .arg(config.ramdisk.as_str().into())
            .push(", ")
            .arg(Timestamp::now().to_string().into())
            .push(
                ") ON CONFLICT (node_uuid) DO UPDATE SET script = excluded.script, \
                 kernel = excluded.kernel, ramdisk = excluded.ramdisk, updated_at = excluded.updated_at",
            );
        self.execute(sql).await?;
        Ok(())
    }

    /// A node's boot config, when it has one.
    pub async fn boot_config_get(&self, node: NodeId) -> Result<Option<BootConfig>, DbError> {
        let mut sql = Sql::default();
        sql.push("SELECT script, kernel, ramdisk FROM boot_configs WHERE node_uuid = ")
            .arg(node.to_string().into());
        let row = self
            .fetch_scalars(sql, &[Scalar::Text, Scalar::Text, Scalar::Text])
            .await?;
        Ok(row.and_then(|row| match <[Value; 3]>::try_from(row) {
            Ok([Value::Text(script), Value::Text(kernel), Value::Text(ramdisk)]) => {
                Some(BootConfig {
                    node_uuid: node,
                    script,
                    kernel,
                    ramdisk,
                })
            }
            _ => None,
        }))
    }

    /// Forgets a node's boot config; true when it had one.
    pub async fn boot_config_delete(&self, node: NodeId) -> Result<bool, DbError> {
        let mut sql = Sql::default();
        sql.push("DELETE FROM boot_configs WHERE node_uuid = ")
            .arg(node.to_string().into());
        Ok(self.execute(sql).await? > 0)
    }

    /// Records the source behind an image cache key (the same key always names the
    /// same source: it is the source's digest).
    pub async fn served_image_put(&self, key: &str, source: &str) -> Result<(), DbError> {
        let mut sql = Sql::default();
        sql.push("INSERT INTO served_images (image_key, source) VALUES (")
            .arg(key.into())
            .push(", ")
            .arg(source.into())
            .push(") ON CONFLICT (image_key) DO NOTHING");
        self.execute(sql).await?;
        Ok(())
    }

    /// The source behind an image cache key, when one was recorded.
    pub async fn served_image_source(&self, key: &str) -> Result<Option<String>, DbError> {
        let mut sql = Sql::default();
        sql.push("SELECT source FROM served_images WHERE image_key = ")
            .arg(key.into());
        let row = self.fetch_scalars(sql, &[Scalar::Text]).await?;
        Ok(row.and_then(|row| match row.into_iter().next() {
            Some(Value::Text(source)) => Some(source),
            _ => None,
        }))
    }
}
