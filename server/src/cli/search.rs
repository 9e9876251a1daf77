//! `reindex`: rebuilding the search index from the database.

use crate::{search::rebuild, settings::Settings, startup::Services};

/// Empties the search index and fills it from the database, with a progress bar.
pub async fn reindex(settings: &Settings) -> anyhow::Result<()> {
    let services = Services::open_from(settings).await?;
    let index = settings.search.open_index().await?;
    let store = services.search_store();
    let total = store.index_entry_count().await?;
    let bar =
        indicatif::ProgressBar::new(total).with_style(indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} letters and uploads {msg}",
        )?);
    let indexed = rebuild(store.as_ref(), &index, |done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    println!(
        "search index rebuilt in {}: {indexed} letters and uploads",
        settings.search.index_directory.display()
    );
    Ok(())
}
