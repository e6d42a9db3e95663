//! Opening an image download: the URLs are tried in order, connection failures and
//! server errors (5xx) retried a bounded number of times, client errors (4xx) final.

use reqwest::{Client, Response};

use crate::commands::CommandError;
use crate::settings::Settings;

/// The HTTP client images are fetched with.
pub fn client(settings: &Settings) -> Result<Client, CommandError> {
    Client::builder()
        .connect_timeout(settings.download_connect_timeout)
        .danger_accept_invalid_certs(settings.insecure)
        .build()
        .map_err(|e| download_error(format!("cannot build the HTTP client: {e}")))
}

pub fn download_error(details: impl Into<String>) -> CommandError {
    CommandError::failed("ImageDownloadError", "Error downloading image", details)
}

/// GETs the first URL that answers 2xx; returns the response and its URL.
pub async fn open(
    http: &Client,
    urls: &[String],
    settings: &Settings,
) -> Result<(Response, String), CommandError> {
    let mut last = String::from("no image URL");
    for attempt in 0..=settings.download_retries {
        if attempt > 0 {
            tracing::warn!(attempt, error = %last, "image download failed; retrying");
            tokio::time::sleep(settings.download_retry_interval).await;
        }
        for url in urls {
            match http.get(url).send().await {
                Ok(resp) if resp.status().is_success() => return Ok((resp, url.clone())),
                Ok(resp) if resp.status().is_client_error() => {
                    return Err(download_error(format!("{url} answered {}", resp.status())))
                }
                Ok(resp) => last = format!("{url} answered {}", resp.status()),
                Err(e) => last = format!("{url}: {e}"),
            }
        }
    }
    Err(download_error(last))
}

/// Fetches a small text document (a checksum file).
pub async fn fetch_text(
    http: &Client,
    url: &str,
    settings: &Settings,
) -> Result<String, CommandError> {
    let (resp, _) = open(http, &[url.to_string()], settings).await?;
    if resp.content_length().is_some_and(|n| n > 1 << 20) {
        return Err(download_error(format!(
            "checksum file {url} is larger than 1 MiB"
        )));
    }
    resp.text()
        .await
        .map_err(|e| download_error(format!("reading {url}: {e}")))
}
