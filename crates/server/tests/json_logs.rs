//! `ferricd --log-format json`: every line one JSON object (time, level, target,
//! message, the event's fields), and one grep follows a deploy: the API's line
//! for the request and the conductor's lines for the work it started, the state
//! changes run after the request answered included, carry the request's id, and
//! the caller's own id (`X-OpenStack-Request-ID`) beside it.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_id_follows_a_deploy_through_the_logs() {
    let dir = scratch("json-logs");
    let args = ["--log-format", "json"].map(String::from);
    let ferric = Ferric::start_with(&dir, None, "", &args).await;
    let (status, node) = ferric
        .call(
            reqwest::Method::POST,
            "/nodes",
            Some(json!({"driver": "fake-hardware", "name": "logged"})),
        )
        .await;
    assert_eq!(status, 201, "{node}");
    let uuid = node["uuid"].as_str().unwrap().to_string();
    for (verb, state) in [("manage", "manageable"), ("provide", "available")] {
        ferric.provision(&uuid, verb).await;
        ferric
            .wait_for(&uuid, &[state], Duration::from_secs(30))
            .await;
    }
    let image = dir.join("image.raw");
    std::fs::write(&image, image_bytes(1 << 20, 3)).unwrap();
    ferric
        .patch_instance_info(
            &uuid,
            json!({"image_source": image.display().to_string(), "image_checksum": sha256_hex(&image)}),
        )
        .await;

    let global = "req-0b6a5d2e-3c1f-4f4e-9a8b-7c6d5e4f3a21";
    let request_id = ferric.provision_as(&uuid, "active", global).await;
    ferric
        .wait_for(&uuid, &["active"], Duration::from_secs(30))
        .await;

    let text = std::fs::read_to_string(&ferric.log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for line in &lines {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(line.get(key).is_some(), "no {key}: {line}");
        }
    }
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["request_id"] == request_id.as_str() || l["span"]["request_id"] == request_id.as_str()
        })
        .collect();
    // The API's audit line for the request.
    assert!(
        of_request.iter().any(|l| l["message"] == "request"
            && l["path"] == format!("/v1/nodes/{uuid}/states/provision")),
        "{of_request:#?}"
    );
    // The conductor's lines for the work: the request's state change, and the
    // last one, logged by the work after the request answered.
    let changes: Vec<&&Value> = of_request
        .iter()
        .filter(|l| l["message"] == "provision state change" && l["node"] == uuid.as_str())
        .collect();
    assert!(
        changes.iter().any(|l| l["to"] == "deploying"),
        "{changes:#?}"
    );
    assert!(changes.iter().any(|l| l["to"] == "active"), "{changes:#?}");
    for l in &changes {
        assert_eq!(l["span"]["global_request_id"], global, "{l}");
    }
    // Nothing else's lines carry it: the earlier requests had their own.
    assert!(
        !lines
            .iter()
            .any(|l| l["to"] == "manageable" && l["span"]["request_id"] == request_id.as_str()),
        "{of_request:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
