//! `postkasse address import`: postal addresses in bulk from an extract of
//! the population register, as an operator loads them, and the letters that
//! then go on paper to those addresses.

use crate::helpers::{citizen, on_both_backends, spawn_app, test_letter, Backend, TEST_SENDER};
use postkasse::print::Store as _;
use reqwest::StatusCode;

async fn addresses_are_imported_in_bulk_and_bad_rows_are_named_by_line(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola, sofie) = (citizen(24), citizen(25), citizen(26));
    let header = "foedselsEllerDNummer,fornavn,etternavn,coAdressenavn,adressenavn,husnummer,husbokstav,postboks,postnummer,poststed,adresselinje1,landkode";
    let good = [
        format!(
            "{},Kari,Nordmann,,Storgata,12,B,,0155,OSLO,,",
            kari.as_str()
        ),
        format!(
            "{},Ola,Nordmann,Per Hansen,,,,123,5003,BERGEN,,",
            ola.as_str()
        ),
        format!("{},Sofie,Hansen,,,,,,,,Kungsgatan 1,SE", sofie.as_str()),
    ];
    let csv = format!(
        "{header}\n{}\n{}\n12345678901,Nils,Nilsen,,Storgata,1,,,0155,OSLO,,\n{}\n{},,,,Storgata,1,,,155,OSLO,,\n",
        good[0],
        good[1],
        good[2],
        citizen(27).as_str()
    );
    let (success, out, err) = app.import_csv(&["address", "import"], &csv).await;
    assert!(!success, "refused rows make the command fail");
    assert!(
        out.contains("5 rows: 3 written, 0 unchanged, 2 refused"),
        "{out}"
    );
    assert!(err.contains("line 4: foedselsEllerDNummer"), "{err}");
    assert!(
        err.contains("line 6:") && err.contains("adresse.navn") && err.contains("four digits"),
        "{err}"
    );
    let stored = app.database.postal_address(&kari).await.unwrap().unwrap();
    assert_eq!(stored.navn, "Kari Nordmann");
    assert_eq!(stored.adresselinje1, "Storgata 12B");
    assert_eq!(stored.postnummer.as_deref(), Some("0155"));
    let stored = app.database.postal_address(&ola).await.unwrap().unwrap();
    assert_eq!(stored.adresselinje1, "c/o Per Hansen");
    assert_eq!(stored.adresselinje2.as_deref(), Some("Postboks 123"));
    let stored = app.database.postal_address(&sofie).await.unwrap().unwrap();
    assert_eq!(stored.landkode.as_deref(), Some("SE"));
    assert!(
        app.database
            .postal_address(&citizen(27))
            .await
            .unwrap()
            .is_none(),
        "a refused row stores nothing"
    );

    // The same good rows again change nothing.
    let (success, out, _) = app
        .import_csv(
            &["address", "import"],
            &format!("{header}\n{}\n", good.join("\n")),
        )
        .await;
    assert!(success);
    assert!(
        out.contains("3 rows: 0 written, 3 unchanged, 0 refused"),
        "{out}"
    );

    // Kari is not in the register: her decision letter goes on paper, to
    // the imported address.
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak på papir");
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );
    let jobs = app.database.print_jobs(false).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].order.address.adresselinje1, "Storgata 12B");
}

on_both_backends!(addresses_are_imported_in_bulk_and_bad_rows_are_named_by_line);
