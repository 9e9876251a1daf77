//! `notices`: what the development sink channel stored.

use crate::{settings::Settings, startup::Services};

#[derive(clap::Args)]
pub struct NoticesArgs {
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

pub async fn run(settings: &Settings, arguments: NoticesArgs) -> anyhow::Result<()> {
    let services = Services::open_from(settings).await?;
    let notices = services
        .notify_store()
        .sink_notices(arguments.limit)
        .await?;
    if notices.is_empty() {
        println!("no notices in the sink");
    }
    for notice in notices {
        println!(
            "{}  {}  {}  {}: {}",
            notice.sent_at.format("%Y-%m-%d %H:%M:%S"),
            crate::notify::channel_code(notice.channel),
            notice.key,
            notice.address,
            notice.text,
        );
    }
    Ok(())
}
