//! A real headless Chromium for the dashboard tests, driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, installed by `lab/install-deps.sh`):
//! chromedriver on a loopback port of its own, one browser session, helpers that
//! wait for what a page shows instead of sleeping.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::support::free_port;

/// How long a page may take to show what a step waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// chromedriver and the browser session it drives; both go away when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// Where screenshots go (and, when a wait fails, what the page showed).
    artifacts: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn chromedriver() -> &'static str {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect(
            "chromedriver is missing: install chromium and chromium-driver (lab/install-deps.sh)",
        )
}

impl Browser {
    /// Starts chromedriver and a headless Chromium window of 1400×1000.
    pub async fn start(log: &Path, artifacts: &Path) -> Browser {
        let port = free_port();
        let log_file = std::fs::File::create(log).unwrap();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("chromedriver starts");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--no-first-run", "--disable-extensions",
            ]}),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        artifacts: artifacts.to_path_buf(),
                    }
                }
                Err(e) if Instant::now() > deadline => panic!("no browser session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The element `css` names, once the page shows it.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                self.keep_evidence().await;
                panic!("no {css}: {e}")
            }
        }
    }

    /// Every element `css` names now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// The text of everything `css` names (joined, trimmed) once it satisfies `ok`,
    /// within `limit`.
    pub async fn text_until(
        &self,
        css: &str,
        limit: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        let mut last = String::new();
        while Instant::now() < deadline {
            let found = self
                .client
                .execute(
                    "return Array.from(document.querySelectorAll(arguments[0])) \
                     .map(e => e.textContent).join(' ').trim();",
                    vec![json!(css)],
                )
                .await;
            if let Ok(Value::String(t)) = found {
                if ok(&t) {
                    return t;
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.keep_evidence().await;
        panic!("{css} never showed what was wanted; last: {last:?}");
    }

    /// How many elements `css` names, once `ok` holds for that number.
    pub async fn count_until(
        &self,
        css: &str,
        limit: Duration,
        ok: impl Fn(usize) -> bool,
    ) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let n = self.all(css).await.len();
            if ok(n) || Instant::now() > deadline {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs a script in the page; its result.
    pub async fn run(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.fragment() {
            Some(f) => format!("{}#{f}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// What the page showed when a wait failed: `failure.png` and `failure.html`.
    async fn keep_evidence(&self) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.artifacts.join("failure.png"), png);
        }
        if let Ok(html) = self.client.source().await {
            let url = self.client.current_url().await.map(|u| u.to_string());
            let _ = std::fs::write(
                self.artifacts.join("failure.html"),
                format!("<!-- {url:?} -->\n{html}"),
            );
        }
    }

    /// A PNG of the window, written to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// The value of the cookie `name` (HttpOnly ones too: WebDriver sees them).
    pub async fn cookie(&self, name: &str) -> String {
        self.client
            .get_named_cookie(name)
            .await
            .unwrap()
            .value()
            .to_string()
    }
}
