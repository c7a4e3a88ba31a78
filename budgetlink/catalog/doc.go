// Package catalog is the standard expenditure catalog (街道支出分类): its
// areas, categories and items, their Chinese labels, the embedded data file
// of each fiscal year (catalogdata/), which catalog is in force at an
// instant (CatalogYearAt), suggestions of an item for a text, and the
// catalog as CSV. It holds no store and no service: the ledger loads a
// year's catalog once and every other room asks the ledger for it.
//
// Errors: ENOTFOUND for a fiscal year with no catalog, EINVALID for a
// catalog that breaks its rules (Validate).
package catalog
