//! The throwaway PostgreSQL cluster the hub tests run on (`passdesk_tests::postgres`).

use passdesk_tests::postgres::PgCluster;

#[test]
fn a_throwaway_cluster_starts_answers_and_gives_each_test_its_own_database() {
    let pg = PgCluster::start();
    assert_eq!(pg.psql("postgres", "SELECT 1 + 1"), "2");
    let a = pg.database();
    let b = pg.database();
    assert_ne!(a, b);
    let name = a.rsplit('/').next().unwrap();
    pg.psql(name, "CREATE TABLE t (x int); INSERT INTO t VALUES (7)");
    assert_eq!(pg.psql(name, "SELECT x FROM t"), "7");
    let data_dir = pg.psql("postgres", "SHOW data_directory");
    drop(pg);
    assert!(
        !std::path::Path::new(&data_dir).exists(),
        "the cluster's files are removed with it"
    );
}
