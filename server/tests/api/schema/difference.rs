//! Compares two [`Schema`] descriptions and names every difference in a
//! sentence, so a failing test says what drifted without a debugger.

use super::description::{column_list, Column, Schema, Table};
use std::collections::BTreeSet;
use std::fmt::Display;

/// Every difference between the two schemas, one sentence each, in table
/// order; empty when they match.
pub fn differences(left: &Schema, right: &Schema) -> Vec<String> {
    let sides = Sides {
        left: left.backend,
        right: right.backend,
    };
    let mut found = Vec::new();
    for name in union(left.tables.keys(), right.tables.keys()) {
        match (left.tables.get(name), right.tables.get(name)) {
            (Some(left_table), Some(right_table)) => {
                let mut in_table = Vec::new();
                table_differences(sides, left_table, right_table, &mut in_table);
                found.extend(
                    in_table
                        .into_iter()
                        .map(|difference| format!("table {name}: {difference}")),
                );
            }
            (Some(_), None) => found.push(format!("table {name} only in {}", sides.left)),
            (None, Some(_)) => found.push(format!("table {name} only in {}", sides.right)),
            (None, None) => unreachable!("{name} came from one of the two"),
        }
    }
    found
}

/// The backends' names, for saying which side something is on.
#[derive(Clone, Copy)]
struct Sides {
    left: &'static str,
    right: &'static str,
}

fn table_differences(sides: Sides, left: &Table, right: &Table, found: &mut Vec<String>) {
    for name in union(left.columns.keys(), right.columns.keys()) {
        match (left.columns.get(name), right.columns.get(name)) {
            (Some(left_column), Some(right_column)) => {
                column_differences(sides, name, left_column, right_column, found)
            }
            (Some(_), None) => found.push(format!("column {name} only in {}", sides.left)),
            (None, Some(_)) => found.push(format!("column {name} only in {}", sides.right)),
            (None, None) => unreachable!("{name} came from one of the two"),
        }
    }

    if left.primary_key != right.primary_key {
        found.push(format!(
            "primary key {} in {} but {} in {}",
            column_list(&left.primary_key),
            sides.left,
            column_list(&right.primary_key),
            sides.right
        ));
    }

    let unique_keys = |table: &Table| -> BTreeSet<String> {
        table
            .unique_keys
            .iter()
            .map(|columns| column_list(columns))
            .collect()
    };
    one_sided(
        sides,
        "unique key",
        &unique_keys(left),
        &unique_keys(right),
        found,
    );
    one_sided(
        sides,
        "foreign key",
        &left.foreign_keys,
        &right.foreign_keys,
        found,
    );

    for name in union(left.indexes.keys(), right.indexes.keys()) {
        match (left.indexes.get(name), right.indexes.get(name)) {
            (Some(left_index), Some(right_index)) if left_index != right_index => {
                found.push(format!(
                    "index {name} differs: {left_index} in {} but {right_index} in {}",
                    sides.left, sides.right
                ))
            }
            (Some(_), Some(_)) => {}
            (Some(_), None) => found.push(format!("index {name} only in {}", sides.left)),
            (None, Some(_)) => found.push(format!("index {name} only in {}", sides.right)),
            (None, None) => unreachable!("{name} came from one of the two"),
        }
    }
}

fn column_differences(
    sides: Sides,
    name: &str,
    left: &Column,
    right: &Column,
    found: &mut Vec<String>,
) {
    if left.family != right.family {
        found.push(format!(
            "column {name} is {} ({}) in {} but {} ({}) in {}",
            left.declared_type,
            left.family,
            sides.left,
            right.declared_type,
            right.family,
            sides.right
        ));
    }
    if left.nullable != right.nullable {
        let nullability = |column: &Column| {
            if column.nullable {
                "nullable"
            } else {
                "NOT NULL"
            }
        };
        found.push(format!(
            "column {name} is {} in {} but {} in {}",
            nullability(left),
            sides.left,
            nullability(right),
            sides.right
        ));
    }
}

/// Names what only one of two sets holds (keys, which have no names of their own).
fn one_sided<Item: Ord + Display>(
    sides: Sides,
    what: &str,
    left: &BTreeSet<Item>,
    right: &BTreeSet<Item>,
    found: &mut Vec<String>,
) {
    for item in left.difference(right) {
        found.push(format!("{what} {item} only in {}", sides.left));
    }
    for item in right.difference(left) {
        found.push(format!("{what} {item} only in {}", sides.right));
    }
}

/// The names on either side, each once, in order.
fn union<'a>(
    left: impl Iterator<Item = &'a String>,
    right: impl Iterator<Item = &'a String>,
) -> BTreeSet<&'a String> {
    left.chain(right).collect()
}
