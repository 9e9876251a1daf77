//! E-mail over SMTP with `lettre`. The Message-ID is made from the job's
//! idempotency key, so a resend after a crash is the same message to the
//! receiving side.

use super::{NoticeSender, OutgoingNotice, SendError};
use async_trait::async_trait;
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::{authentication::Credentials, client::Tls},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain in Message-IDs.
    domain: String,
}

/// Where and how to reach the SMTP server.
#[derive(Clone)]
pub struct SmtpOptions {
    pub host: String,
    pub port: u16,
    /// STARTTLS required; off only for a server on this machine.
    pub starttls: bool,
    pub credentials: Option<(String, secrecy::SecretString)>,
    pub from: String,
    pub timeout: std::time::Duration,
}

impl SmtpSender {
    pub fn new(options: &SmtpOptions) -> anyhow::Result<SmtpSender> {
        use secrecy::ExposeSecret;
        let from: Mailbox = options
            .from
            .parse()
            .map_err(|error| anyhow::anyhow!("notify.smtp_from is not an address: {error}"))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&options.host)
            .port(options.port)
            .timeout(Some(options.timeout));
        if options.starttls {
            let parameters =
                lettre::transport::smtp::client::TlsParameters::new(options.host.clone())?;
            builder = builder.tls(Tls::Required(parameters));
        }
        if let Some((user, password)) = &options.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        let domain = from.email.domain().to_owned();
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            domain,
        })
    }
}

#[async_trait]
impl NoticeSender for SmtpSender {
    async fn send(&self, notice: &OutgoingNotice) -> Result<(), SendError> {
        let to: Mailbox = notice
            .address
            .parse()
            .map_err(|_| SendError::Permanent("the e-mail address is not usable".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject("Nytt brev i Postkasse")
            .message_id(Some(format!("<{}@{}>", notice.key, self.domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(notice.text.clone())
            .map_err(|error| {
                SendError::Permanent(format!("the e-mail could not be built: {error}"))
            })?;
        // The server's own words may repeat the address: only its code is kept.
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => {
                let code = error
                    .status()
                    .map_or_else(|| "no reply code".to_owned(), |code| code.to_string());
                if error.is_permanent() {
                    Err(SendError::Permanent(format!(
                        "the SMTP server refused the e-mail ({code})"
                    )))
                } else {
                    Err(SendError::Transient(format!(
                        "the e-mail could not be sent ({code})"
                    )))
                }
            }
        }
    }
}
