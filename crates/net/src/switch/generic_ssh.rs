//! `generic-ssh`: a switch configured over SSH with per-OS command templates (the
//! job networking-generic-switch does for Neutron). Binding a port to a segment
//! makes it an access port of the VLAN and enables it; unbinding shuts it down, so
//! an unbound port reaches nothing (rather than falling back to a default VLAN).
//! Commands are the same whatever the port's state (idempotent), one session at a
//! time per switch, retried. Sessions use the OpenSSH client: host keys are trusted
//! on first use and pinned in a known-hosts file; a password reaches `ssh` through
//! an askpass helper's environment, never a command line or a log.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::Mutex;

use super::{check_port_name, BoxFuture, Segment, SwitchDriver};

/// A link aggregate's number and member names, checked before they reach a CLI.
fn check_lag(lag: &str, ports: &[String]) -> Result<(), String> {
    if lag.is_empty() || lag.len() > 6 || !lag.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("link aggregate id {lag:?} must be a number"));
    }
    ports.iter().try_for_each(|p| check_port_name(p))
}

/// This process's user id: the owner of /proc/self.
fn own_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

/// What switch CLIs print when a command was refused (they often exit 0 anyway).
const ERROR_MARKERS: &[&str] = &[
    "% Invalid",
    "% Incomplete",
    "% Ambiguous",
    "% Error",
    "syntax error",
    "error:",
    "Error:",
    "commit failed",
];

/// The command templates of one switch OS: `{port}`, `{vlan}` and `{lag}` are filled
/// in; in the link-aggregate templates a `{members}` line stands for the member
/// template repeated for each member port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    pub bind: Vec<String>,
    pub unbind: Vec<String>,
    pub lag_bind: Vec<String>,
    pub lag_member_bind: Vec<String>,
    pub lag_unbind: Vec<String>,
    pub lag_member_unbind: Vec<String>,
}

fn lines(l: &[&str]) -> Vec<String> {
    l.iter().map(|s| s.to_string()).collect()
}

impl Templates {
    /// The built-in templates of a device type.
    pub fn for_os(os: &str) -> Result<Templates, String> {
        Ok(match os {
            "cisco_ios" | "dell_os10" | "arista_eos" => Templates {
                bind: lines(&[
                    "configure terminal",
                    "vlan {vlan}",
                    "exit",
                    "interface {port}",
                    "switchport mode access",
                    "switchport access vlan {vlan}",
                    "no shutdown",
                    "end",
                ]),
                unbind: lines(&["configure terminal", "interface {port}", "shutdown", "end"]),
                lag_bind: lines(&[
                    "configure terminal",
                    "vlan {vlan}",
                    "exit",
                    "interface Port-channel{lag}",
                    "switchport mode access",
                    "switchport access vlan {vlan}",
                    "no shutdown",
                    "{members}",
                    "end",
                ]),
                lag_member_bind: lines(&[
                    "interface {port}",
                    "channel-group {lag} mode active",
                    "no shutdown",
                ]),
                lag_unbind: lines(&[
                    "configure terminal",
                    "interface Port-channel{lag}",
                    "shutdown",
                    "{members}",
                    "end",
                ]),
                lag_member_unbind: lines(&["interface {port}", "no channel-group", "shutdown"]),
            },
            "juniper_junos" => Templates {
                bind: lines(&[
                    "configure",
                    "set vlans vlan{vlan} vlan-id {vlan}",
                    "delete interfaces {port} unit 0 family ethernet-switching vlan members",
                    "set interfaces {port} unit 0 family ethernet-switching interface-mode access",
                    "set interfaces {port} unit 0 family ethernet-switching vlan members vlan{vlan}",
                    "delete interfaces {port} disable",
                    "commit and-quit",
                ]),
                unbind: lines(&[
                    "configure",
                    "delete interfaces {port} unit 0 family ethernet-switching vlan members",
                    "set interfaces {port} disable",
                    "commit and-quit",
                ]),
                lag_bind: lines(&[
                    "configure",
                    "set vlans vlan{vlan} vlan-id {vlan}",
                    "set interfaces ae{lag} aggregated-ether-options lacp active",
                    "delete interfaces ae{lag} unit 0 family ethernet-switching vlan members",
                    "set interfaces ae{lag} unit 0 family ethernet-switching interface-mode access",
                    "set interfaces ae{lag} unit 0 family ethernet-switching vlan members vlan{vlan}",
                    "{members}",
                    "commit and-quit",
                ]),
                lag_member_bind: lines(&[
                    "delete interfaces {port} unit 0",
                    "set interfaces {port} ether-options 802.3ad ae{lag}",
                    "delete interfaces {port} disable",
                ]),
                lag_unbind: lines(&[
                    "configure",
                    "{members}",
                    "delete interfaces ae{lag}",
                    "commit and-quit",
                ]),
                lag_member_unbind: lines(&[
                    "delete interfaces {port} ether-options 802.3ad",
                    "set interfaces {port} disable",
                ]),
            },
            "sonic" => Templates {
                bind: lines(&[
                    "sudo config vlan add {vlan} 2>/dev/null || true",
                    "for v in $(sonic-db-cli CONFIG_DB keys 'VLAN_MEMBER|*|{port}' | cut -d'|' -f2 | sed 's/^Vlan//'); do sudo config vlan member del $v {port}; done",
                    "sudo config vlan member add -u {vlan} {port}",
                    "sudo config interface startup {port}",
                ]),
                unbind: lines(&[
                    "sudo config interface shutdown {port}",
                    "for v in $(sonic-db-cli CONFIG_DB keys 'VLAN_MEMBER|*|{port}' | cut -d'|' -f2 | sed 's/^Vlan//'); do sudo config vlan member del $v {port}; done",
                ]),
                lag_bind: lines(&[
                    "sudo config portchannel add PortChannel{lag} 2>/dev/null || true",
                    "{members}",
                    "sudo config vlan add {vlan} 2>/dev/null || true",
                    "for v in $(sonic-db-cli CONFIG_DB keys 'VLAN_MEMBER|*|PortChannel{lag}' | cut -d'|' -f2 | sed 's/^Vlan//'); do sudo config vlan member del $v PortChannel{lag}; done",
                    "sudo config vlan member add -u {vlan} PortChannel{lag}",
                    "sudo config interface startup PortChannel{lag}",
                ]),
                lag_member_bind: lines(&[
                    "sudo config portchannel member add PortChannel{lag} {port} 2>/dev/null || true",
                    "sudo config interface startup {port}",
                ]),
                lag_unbind: lines(&[
                    "sudo config interface shutdown PortChannel{lag}",
                    "for v in $(sonic-db-cli CONFIG_DB keys 'VLAN_MEMBER|*|PortChannel{lag}' | cut -d'|' -f2 | sed 's/^Vlan//'); do sudo config vlan member del $v PortChannel{lag}; done",
                    "{members}",
                ]),
                lag_member_unbind: lines(&[
                    "sudo config portchannel member del PortChannel{lag} {port} 2>/dev/null || true",
                    "sudo config interface shutdown {port}",
                ]),
            },
            other => {
                return Err(format!(
                    "no command templates for switch OS {other} (cisco_ios, arista_eos, juniper_junos, dell_os10, sonic; or give bind_commands and unbind_commands)"
                ))
            }
        })
    }

    fn fill(lines: &[String], port: &str, vlan: Option<u16>) -> Vec<String> {
        Self::fill_lag(lines, &[], "", port, &[], vlan)
    }

    /// Fills a template; a `{members}` line becomes `member` for each of `members`.
    fn fill_lag(
        lines: &[String],
        member: &[String],
        lag: &str,
        port: &str,
        members: &[String],
        vlan: Option<u16>,
    ) -> Vec<String> {
        let vlan = vlan.map(|v| v.to_string()).unwrap_or_default();
        let one = |l: &String, port: &str| {
            l.replace("{port}", port)
                .replace("{vlan}", &vlan)
                .replace("{lag}", lag)
        };
        let mut out = Vec::new();
        for l in lines {
            if l.trim() == "{members}" {
                for p in members {
                    out.extend(member.iter().map(|m| one(m, p)));
                }
            } else {
                out.push(one(l, port));
            }
        }
        out
    }
}

/// How to log in.
#[derive(Clone)]
pub struct SshLogin {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Option<String>,
    pub key_file: Option<PathBuf>,
    /// Where host keys are pinned.
    pub known_hosts: PathBuf,
    /// Where the askpass helper lives (written on first use).
    pub askpass: PathBuf,
}

impl std::fmt::Debug for SshLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshLogin")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "******"))
            .field("key_file", &self.key_file)
            .finish()
    }
}

/// A switch driven over SSH.
pub struct GenericSsh {
    login: SshLogin,
    templates: Templates,
    attempts: u32,
    timeout: Duration,
    serial: Mutex<()>,
}

impl GenericSsh {
    pub fn new(login: SshLogin, templates: Templates) -> Self {
        Self {
            login,
            templates,
            attempts: 3,
            timeout: Duration::from_secs(30),
            serial: Mutex::new(()),
        }
    }

    /// The same switch, tried `n` times before a change fails.
    pub fn with_attempts(mut self, n: u32) -> Self {
        self.attempts = n.max(1);
        self
    }

    /// Makes sure the askpass helper is ours: the expected script, owner-only. It is
    /// written to a temporary name and renamed into place, so a session never runs
    /// a half-written or foreign helper.
    fn ensure_askpass(&self) -> Result<(), String> {
        use std::io::Write;
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
        const SCRIPT: &str = "#!/bin/sh\nprintf '%s\\n' \"$FERRIC_SWITCH_PASSWORD\"\n";
        let path = &self.login.askpass;
        let ours = std::fs::symlink_metadata(path).is_ok_and(|m| {
            m.is_file()
                && m.uid() == own_uid()
                && m.permissions().mode() & 0o077 == 0
                && std::fs::read_to_string(path).is_ok_and(|t| t == SCRIPT)
        });
        if ours {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let part = path.with_extension(format!("part{}", std::process::id()));
        let _ = std::fs::remove_file(&part);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o700)
            .open(&part)
            .map_err(|e| format!("askpass helper {}: {e}", part.display()))?;
        f.write_all(SCRIPT.as_bytes()).map_err(|e| e.to_string())?;
        drop(f);
        std::fs::set_permissions(&part, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| e.to_string())?;
        std::fs::rename(&part, path).map_err(|e| e.to_string())
    }

    /// One SSH session feeding `commands` to the switch's CLI.
    async fn session(&self, commands: &[String]) -> Result<(), String> {
        let l = &self.login;
        let mut cmd = Command::new("ssh");
        cmd.args(["-T", "-p", &l.port.to_string()])
            .args([
                "-o",
                "ConnectTimeout=10",
                "-o",
                "StrictHostKeyChecking=accept-new",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", l.known_hosts.display()))
            .args(["-o", "NumberOfPasswordPrompts=1", "-o", "LogLevel=ERROR"])
            .arg(format!("{}@{}", l.username, l.host))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(key) = &l.key_file {
            cmd.arg("-o").arg("IdentitiesOnly=yes").arg("-i").arg(key);
        }
        match &l.password {
            Some(pw) => {
                self.ensure_askpass()?;
                cmd.env("SSH_ASKPASS", &l.askpass)
                    .env("SSH_ASKPASS_REQUIRE", "force")
                    .env("DISPLAY", ":0")
                    .env("FERRIC_SWITCH_PASSWORD", pw);
            }
            None => {
                cmd.args(["-o", "BatchMode=yes"]);
            }
        }
        let mut child = cmd.spawn().map_err(|e| format!("ssh: {e}"))?;
        let mut script = commands.join("\n");
        script.push('\n');
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .await
                .map_err(|e| format!("ssh: {e}"))?;
        }
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| format!("ssh to {} timed out", l.host))?
            .map_err(|e| format!("ssh: {e}"))?;
        let said = String::from_utf8_lossy(&out.stdout);
        if let Some(line) = said
            .lines()
            .find(|l| ERROR_MARKERS.iter().any(|m| l.contains(m)))
        {
            return Err(format!(
                "switch {} refused a command: {}",
                l.host,
                line.trim()
            ));
        }
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "ssh to {}: {}",
                l.host,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    async fn apply(&self, commands: Vec<String>) -> Result<(), String> {
        let _one = self.serial.lock().await;
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            match self.session(&commands).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(switch = %self.login.host, attempt, error = %e, "switch configuration failed");
                    last = e;
                    tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                }
            }
        }
        Err(last)
    }
}

impl SwitchDriver for GenericSsh {
    fn bind<'a>(&'a self, port: &'a str, segment: Segment) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            check_port_name(port)?;
            let vlan = match segment {
                Segment::Vlan(v) => v,
                Segment::Flat => {
                    return Err("generic-ssh switches carry VLAN networks; a flat network needs no switch configuration (use a flat network with noop or flat network interfaces)".into())
                }
            };
            self.apply(Templates::fill(&self.templates.bind, port, Some(vlan)))
                .await
        })
    }

    fn unbind<'a>(&'a self, port: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            check_port_name(port)?;
            self.apply(Templates::fill(&self.templates.unbind, port, None))
                .await
        })
    }

    fn bind_group<'a>(
        &'a self,
        lag: &'a str,
        ports: &'a [String],
        segment: Segment,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let Segment::Vlan(vlan) = segment else {
                return Err("generic-ssh switches carry VLAN networks only".into());
            };
            let t = &self.templates;
            if t.lag_bind.is_empty() {
                for p in ports {
                    self.bind(p, segment).await?;
                }
                return Ok(());
            }
            check_lag(lag, ports)?;
            self.apply(Templates::fill_lag(
                &t.lag_bind,
                &t.lag_member_bind,
                lag,
                "",
                ports,
                Some(vlan),
            ))
            .await
        })
    }

    fn unbind_group<'a>(
        &'a self,
        lag: &'a str,
        ports: &'a [String],
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let t = &self.templates;
            if t.lag_unbind.is_empty() {
                for p in ports {
                    self.unbind(p).await?;
                }
                return Ok(());
            }
            check_lag(lag, ports)?;
            self.apply(Templates::fill_lag(
                &t.lag_unbind,
                &t.lag_member_unbind,
                lag,
                "",
                ports,
                None,
            ))
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_and_debug_masks_the_password() {
        let t = Templates::for_os("cisco_ios").unwrap();
        let bind = Templates::fill(&t.bind, "Gi1/0/7", Some(120));
        assert!(bind.contains(&"switchport access vlan 120".to_string()));
        assert!(bind.contains(&"interface Gi1/0/7".to_string()));
        assert!(Templates::for_os("os/2").is_err());
        let login = SshLogin {
            host: "tor".into(),
            port: 22,
            username: "admin".into(),
            password: Some("s3cret".into()),
            key_file: None,
            known_hosts: "/k".into(),
            askpass: "/a".into(),
        };
        let shown = format!("{login:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("******"),
            "{shown}"
        );
    }
}
