package store

// StmtCacheSize is stmtCacheSize, for the tests.
const StmtCacheSize = stmtCacheSize
