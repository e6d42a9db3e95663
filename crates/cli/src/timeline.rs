//! `ferric node show NODE --timeline`: the node's history as a timeline — each
//! provision state it entered, when, and how long it stayed (the current one
//! until now), with every error in between in full.

use ferric_types::Timestamp;
use serde_json::{json, Value};

/// The state a history event says the node entered (`… to "STATE" …`), if any.
fn entered(event: &str) -> Option<&str> {
    let rest = event.split_once(" to \"")?.1;
    rest.split_once('"').map(|(state, _)| state)
}

fn micros(at: &Value) -> Option<i64> {
    let text = at.as_str()?.to_string();
    Timestamp::try_from(text).ok().map(Timestamp::micros)
}

/// A duration in words a person reads at a glance: 4 s, 2 min 5 s, 3 h 12 min.
fn lasted(us: i64) -> String {
    let s = us.max(0) / 1_000_000;
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// The timeline's rows (Since, State, For, Event) from history events (oldest
/// first), the last state lasting until `now_us`.
pub fn rows(history: &[Value], now_us: i64) -> Vec<Value> {
    let mut rows: Vec<Value> = Vec::new();
    // Where the state the node is in began, to fill in its row's duration.
    let mut open: Option<(usize, i64)> = None;
    for event in history {
        let (Some(at), Some(text)) = (micros(&event["created_at"]), event["event"].as_str()) else {
            continue;
        };
        let error = event["severity"] == "ERROR";
        let state = entered(text).filter(|_| event["event_type"] == "provisioning");
        if state.is_none() && !error {
            continue;
        }
        if let (Some(_), Some((row, since))) = (state, open) {
            rows[row]["for"] = json!(lasted(at - since));
        }
        rows.push(json!({
            "since": event["created_at"],
            "state": state.unwrap_or(""),
            "for": "",
            "event": if error { format!("ERROR: {text}") } else { text.to_string() },
        }));
        if state.is_some() {
            open = Some((rows.len() - 1, at));
        }
    }
    if let Some((row, since)) = open {
        rows[row]["for"] = json!(format!("{} (so far)", lasted(now_us - since)));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: &str, severity: &str, kind: &str, text: &str) -> Value {
        json!({"created_at": at, "severity": severity, "event_type": kind, "event": text})
    }

    #[test]
    fn states_with_their_durations_and_errors_in_full() {
        let history = vec![
            event("2026-12-06T10:00:00.000000+00:00", "INFO", "provisioning",
                  "Provision state changed from \"available\" to \"deploying\" by request \"active\""),
            event("2026-12-06T10:00:04.000000+00:00", "INFO", "provisioning",
                  "Provision state changed from \"deploying\" to \"wait call-back\""),
            event("2026-12-06T10:00:05.000000+00:00", "INFO", "power", "Power state changed outside Ferric"),
            event("2026-12-06T10:30:04.000000+00:00", "ERROR", "provisioning",
                  "Timeout reached while waiting for callback for node n in state \"wait call-back\" (1800 s)"),
            event("2026-12-06T10:30:04.000000+00:00", "INFO", "provisioning",
                  "Provision state changed from \"wait call-back\" to \"deploy failed\""),
        ];
        let now = Timestamp::try_from("2026-12-06T12:00:04.000000+00:00".to_string())
            .unwrap()
            .micros();
        let rows = rows(&history, now);
        let states: Vec<&str> = rows.iter().map(|r| r["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["deploying", "wait call-back", "", "deploy failed"]);
        assert_eq!(rows[0]["for"], "4 s");
        assert_eq!(rows[1]["for"], "30 min 0 s");
        assert!(rows[2]["event"]
            .as_str()
            .unwrap()
            .starts_with("ERROR: Timeout reached"));
        assert_eq!(rows[3]["for"], "1 h 30 min (so far)");
    }
}
