// Small SPI helpers shared by the ingest phases. All of them may raise
// PostgreSQL errors: call them from plain C-style steps (run_in_transaction),
// never from inside core code.
#pragma once

#include "pg/pg_headers.hpp"

namespace pf::pg {

// Runs sql with one text parameter; copies the first column of the first row
// into out (when out is not null). Returns false when there is no row.
bool spi_text1(const char* sql, const char* param, char* out, size_t outlen);

// A one-dimensional text[] (or bytea[]: the strings' raw bytes) of n values;
// nulls[i] marks a NULL element (nulls may be null).
Datum cstring_array(const char* const* vals, const bool* nulls, int n, Oid elemtype);

// A random (version 4) UUID as text.
void new_uuid(char* out, size_t outlen);

// One cell of the last SPI result as text (SPI memory; NULL is a null pointer).
char* spi_cell(uint64 row, int col);

// Runs a query with one parameter; its rows as text cells (SPI memory, valid
// until the step ends; NULL cells are null pointers).
char*** spi_rows(const char* sql, Oid type, Datum arg, int ncols, const char* what, int* nrows);

}  // namespace pf::pg
