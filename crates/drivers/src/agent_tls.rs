//! TLS to the ramdisk agent. An agent serving https makes a self-signed certificate
//! at each boot and sends it in its heartbeat (`agent_verify_ca`); that certificate
//! *is* the agent's identity. The conductor therefore pins it: the server must
//! present exactly those DER bytes, inside their validity period, and must prove it
//! holds the certificate's key in the handshake (checked with the crypto
//! provider's handshake signature algorithms). The signature on the certificate
//! itself is not checked: for a pinned self-signed certificate it proves nothing,
//! and agents sign theirs with algorithms a verifier may not support
//! (ironic-python-agent 13 uses ECDSA P-384 with SHA-512, which ring cannot verify).
//! Host names are not checked either: the agent's address is where its heartbeat
//! said it listens, and the certificate pinned is the one it sent. The handshake
//! signature must use an algorithm ring verifies (ECDSA P-256/P-384, RSA, Ed25519:
//! what IPA, ferric-agent and OpenSSL's defaults produce).

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use x509_cert::der::Decode;

/// How far the agent's clock may run ahead of the conductor's: a ramdisk dates
/// its certificate from its own clock, which a machine's firmware may keep badly.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// A client configuration that trusts exactly the agent certificate `pem`.
pub fn client_config(pem: &str) -> Result<rustls::ClientConfig, String> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| format!("the agent's certificate is not PEM: {e}"))?;
    let cert = x509_cert::Certificate::from_der(der.as_ref())
        .map_err(|e| format!("the agent's certificate cannot be read: {e}"))?;
    let validity = &cert.tbs_certificate.validity;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinnedCertificate {
        der: der.into_owned(),
        not_before: validity.not_before.to_unix_duration(),
        not_after: validity.not_after.to_unix_duration(),
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("no TLS versions: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(config)
}

/// Trusts one certificate, by its DER bytes.
#[derive(Debug)]
struct PinnedCertificate {
    der: CertificateDer<'static>,
    not_before: Duration,
    not_after: Duration,
    provider: Arc<CryptoProvider>,
}

/// What the agent presented when it is not the certificate its heartbeat sent.
const NOT_PINNED: &str = "the agent presented another certificate than the one its heartbeat sent";

/// The verifier's own words for a certificate it refuses.
fn not_pinned() -> rustls::Error {
    let err: Box<dyn std::error::Error + Send + Sync> = NOT_PINNED.into();
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::from(err))))
}

fn unix(d: Duration) -> UnixTime {
    UnixTime::since_unix_epoch(d)
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() != self.der.as_ref() {
            return Err(not_pinned());
        }
        let at = Duration::from_secs(now.as_secs());
        if at + CLOCK_SKEW < self.not_before {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidYetContext {
                    time: now,
                    not_before: unix(self.not_before),
                },
            ));
        }
        if at > self.not_after {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ExpiredContext {
                    time: now,
                    not_after: unix(self.not_after),
                },
            ));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
