//! The agent's settings: the `ipa-*` kernel parameters a deploy ramdisk is booted
//! with (the names ironic-python-agent reads, so Ironic's PXE templates work), with
//! command-line flags taking precedence, and the test mode in which a file stands in
//! for the machine's disk and a flag for its NIC.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the agent needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Ironic/Ferric API base URLs, tried in order.
    pub api_urls: Vec<String>,
    /// Where the command API listens.
    pub listen: SocketAddr,
    /// The address put in `callback_url`; found from the route to the API when unset.
    pub advertise_host: Option<String>,
    pub advertise_port: u16,
    /// Serve the command API over plain HTTP (labs only): no certificate is made and
    /// the conductor must be configured to accept plain-HTTP agents.
    pub plain_http: bool,
    /// Do not verify TLS certificates of the API and of image servers.
    pub insecure: bool,
    /// CA certificates (PEM) to verify the API and image servers with, besides the
    /// usual roots (`ipa-cafile`).
    pub ca_file: Option<PathBuf>,
    /// Test mode: these paths are the machine's only disks (files or block devices).
    pub disks: Vec<PathBuf>,
    /// Test mode: these MACs are the machine's NICs.
    pub macs: Vec<String>,
    pub lookup_timeout: Duration,
    pub lookup_interval: Duration,
    pub http_request_timeout: Duration,
    pub download_connect_timeout: Duration,
    pub download_retries: u32,
    pub download_retry_interval: Duration,
    /// Sent as `X-OpenStack-Request-ID` on every call to the API.
    pub global_request_id: Option<String>,
    /// A token handed over on the command line (virtual-media boots).
    pub agent_token: Option<String>,
    /// The PXE MAC (`BOOTIF`), reported raw in the inventory.
    pub bootif: Option<String>,
    /// Forces the API microversion instead of discovering it.
    pub api_version: Option<String>,
    /// Where to post the inspection data before looking the node up
    /// (`ipa-inspection-callback-url`); no inspection when unset.
    pub inspection_callback_url: Option<String>,
    /// Where large temporary files go (an image that cannot be streamed).
    pub work_dir: PathBuf,
    /// Where a rescue leaves its password hash and marker (`/etc`; in test mode,
    /// `<first disk>.rescue` unless given).
    pub rescue_dir: Option<PathBuf>,
    /// Test mode: the disk writes at most this many bytes a second (slow disks).
    pub disk_rate: Option<u64>,
    /// Bytes the image writer gathers per write (default 8 MiB); simulated machines
    /// sharing one process use less.
    pub write_chunk: Option<usize>,
    /// Listen for LLDP on every NIC and report it in the inventory
    /// (`ipa-collect-lldp`, default off as in ironic-python-agent).
    pub collect_lldp: bool,
    /// How long to wait for each NIC's first LLDP frame (`ipa-lldp-timeout`, 30 s).
    pub lldp_timeout: Duration,
    /// Test mode: the LLDP frame the switch sends each NIC, by the NIC's MAC; a NIC
    /// without one hears nothing.
    pub lldp_frames: BTreeMap<String, Vec<u8>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            api_urls: Vec::new(),
            listen: SocketAddr::from(([0, 0, 0, 0], 9999)),
            advertise_host: None,
            advertise_port: 9999,
            plain_http: false,
            insecure: false,
            ca_file: None,
            disks: Vec::new(),
            macs: Vec::new(),
            lookup_timeout: Duration::from_secs(600),
            lookup_interval: Duration::from_secs(1),
            http_request_timeout: Duration::from_secs(30),
            download_connect_timeout: Duration::from_secs(60),
            download_retries: 9,
            download_retry_interval: Duration::from_secs(10),
            global_request_id: None,
            agent_token: None,
            bootif: None,
            api_version: None,
            inspection_callback_url: None,
            work_dir: std::env::temp_dir(),
            rescue_dir: None,
            disk_rate: None,
            write_chunk: None,
            collect_lldp: false,
            lldp_timeout: Duration::from_secs(30),
            lldp_frames: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// True when a file (or device) named on the command line is the machine's disk.
    pub fn test_mode(&self) -> bool {
        !self.disks.is_empty()
    }

    /// Where a rescue leaves its password hash and marker.
    pub fn rescue_dir(&self) -> PathBuf {
        if let Some(d) = &self.rescue_dir {
            return d.clone();
        }
        match self.disks.first() {
            Some(disk) => {
                let mut name = disk.as_os_str().to_owned();
                name.push(".rescue");
                PathBuf::from(name)
            }
            None => PathBuf::from("/etc"),
        }
    }

    /// Applies kernel parameters (`key=value` tokens of `/proc/cmdline`).
    pub fn apply_kernel_params(&mut self, cmdline: &str) -> Result<(), String> {
        let params = parse_cmdline(cmdline);
        let get = |k: &str| params.get(k).map(String::as_str);
        if let Some(urls) = get("ipa-api-url") {
            self.api_urls = split_urls(urls)?;
        }
        if let Some(host) = get("ipa-listen-host") {
            let port = self.listen.port();
            self.listen = parse_listen(host, port)?;
        }
        if let Some(port) = get("ipa-listen-port") {
            let port = parse_num::<u16>("ipa-listen-port", port)?;
            self.listen.set_port(port);
            self.advertise_port = port;
        }
        if let Some(host) = get("ipa-advertise-host") {
            self.advertise_host = Some(host.to_string());
        }
        if let Some(port) = get("ipa-advertise-port") {
            self.advertise_port = parse_num("ipa-advertise-port", port)?;
        }
        if let Some(proto) = get("ipa-advertise-protocol") {
            self.plain_http = proto == "http";
        }
        if let Some(v) = get("ipa-insecure") {
            self.insecure = truthy(v);
        }
        if let Some(v) = get("ipa-cafile") {
            self.ca_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("ipa-lookup-timeout") {
            self.lookup_timeout = secs("ipa-lookup-timeout", v)?;
        }
        if let Some(v) = get("ipa-lookup-interval") {
            self.lookup_interval = secs("ipa-lookup-interval", v)?;
        }
        if let Some(v) = get("ipa-http-request-timeout") {
            self.http_request_timeout = secs("ipa-http-request-timeout", v)?;
        }
        if let Some(v) = get("ipa-image-download-connection-timeout") {
            self.download_connect_timeout = secs("ipa-image-download-connection-timeout", v)?;
        }
        if let Some(v) = get("ipa-image-download-connection-retries") {
            self.download_retries = parse_num("ipa-image-download-connection-retries", v)?;
        }
        if let Some(v) = get("ipa-image-download-connection-retry-interval") {
            self.download_retry_interval = secs("ipa-image-download-connection-retry-interval", v)?;
        }
        if let Some(v) = get("ipa-global-request-id") {
            self.global_request_id = Some(v.to_string());
        }
        if let Some(v) = get("ipa-agent-token") {
            self.agent_token = Some(v.to_string());
        }
        if let Some(v) = get("ipa-ironic-api-version") {
            self.api_version = Some(v.to_string());
        }
        if let Some(v) = get("ipa-inspection-callback-url") {
            if v == "mdns" {
                return Err("ipa-inspection-callback-url=mdns: finding the inspection endpoint over mDNS is not supported; give its URL".into());
            }
            if !(v.starts_with("http://") || v.starts_with("https://")) {
                return Err(format!(
                    "ipa-inspection-callback-url {v} is not an http(s) URL"
                ));
            }
            self.inspection_callback_url = Some(v.to_string());
        }
        if let Some(v) = get("ipa-collect-lldp") {
            self.collect_lldp = truthy(v);
        }
        if let Some(v) = get("ipa-lldp-timeout") {
            self.lldp_timeout = secs("ipa-lldp-timeout", v)?;
        }
        if let Some(v) = get("BOOTIF") {
            self.bootif = Some(v.to_string());
        }
        Ok(())
    }
}

/// Splits a kernel command line into its `key=value` parameters.
pub fn parse_cmdline(cmdline: &str) -> HashMap<String, String> {
    cmdline
        .split_whitespace()
        .filter_map(|tok| tok.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Checks and splits a comma-separated list of API URLs.
pub fn split_urls(list: &str) -> Result<Vec<String>, String> {
    let urls: Vec<String> = list
        .split(',')
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Err("the API URL list is empty".into());
    }
    for u in &urls {
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() <= "https://".len() {
            return Err(format!("API URL {u} is not an http(s) URL"));
        }
    }
    Ok(urls)
}

fn parse_listen(host: &str, port: u16) -> Result<SocketAddr, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| format!("listen host {host} is not an IP address"))?;
    Ok(SocketAddr::new(ip, port))
}

fn parse_num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{name}={v} is not a valid number"))
}

fn secs(name: &str, v: &str) -> Result<Duration, String> {
    let n: f64 = parse_num(name, v)?;
    if !(0.0..=1e9).contains(&n) {
        return Err(format!("{name}={v} is out of range"));
    }
    Ok(Duration::from_secs_f64(n))
}

fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_params_fill_settings() {
        let mut s = Settings::default();
        s.apply_kernel_params(
            "BOOT_IMAGE=x nofb ipa-api-url=http://10.0.0.1:6385/ ipa-insecure=1 \
             ipa-lookup-timeout=30 BOOTIF=01-52-54-00-12-34-56 ipa-listen-port=9998 \
             ipa-inspection-callback-url=http://10.0.0.1:6385/v1/continue_inspection \
             ipa-collect-lldp=1 ipa-lldp-timeout=2.5",
        )
        .unwrap();
        assert!(s.collect_lldp);
        assert_eq!(s.lldp_timeout, Duration::from_millis(2500));
        assert_eq!(s.api_urls, ["http://10.0.0.1:6385"]);
        assert!(s.insecure);
        assert_eq!(s.lookup_timeout, Duration::from_secs(30));
        assert_eq!(s.bootif.as_deref(), Some("01-52-54-00-12-34-56"));
        assert_eq!(s.listen.port(), 9998);
        assert_eq!(s.advertise_port, 9998);
        assert_eq!(
            s.inspection_callback_url.as_deref(),
            Some("http://10.0.0.1:6385/v1/continue_inspection")
        );
    }

    #[test]
    fn bad_params_are_refused() {
        let mut s = Settings::default();
        assert!(s.apply_kernel_params("ipa-api-url=ftp://x").is_err());
        assert!(s.apply_kernel_params("ipa-lookup-timeout=soon").is_err());
        assert!(s.apply_kernel_params("ipa-listen-host=nowhere").is_err());
        assert!(s.apply_kernel_params("ipa-lldp-timeout=-1").is_err());
        assert!(s.apply_kernel_params("ipa-lldp-timeout=never").is_err());
        assert!(s
            .apply_kernel_params("ipa-inspection-callback-url=mdns")
            .unwrap_err()
            .contains("not supported"));
        assert!(s
            .apply_kernel_params("ipa-inspection-callback-url=tftp://x")
            .is_err());
    }
}
