"""Append chunk after chunk to one file per table, so memory stays flat however large the run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq


class FeedWriter:
    """One output file (Parquet or CSV) written in chunks with a fixed schema."""

    def __init__(self, folder: Path, name: str, fmt: str):
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"format must be parquet or csv, not {fmt!r}")
        self.path = Path(folder) / f"{name}.{fmt}"
        self.fmt = fmt
        self.rows = 0
        self._schema: pl.Schema | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._csv = None

    def write(self, df: pl.DataFrame) -> None:
        if self._schema is None:
            self._schema = df.schema
        else:
            df = df.select([pl.col(c).cast(t) for c, t in self._schema.items()])
        if self.fmt == "parquet":
            table = df.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._parquet.write_table(table.cast(self._parquet.schema))
        else:
            if self._csv is None:
                self._csv = open(self.path, "w", newline="")  # noqa: SIM115 - closed in close()
                df.write_csv(self._csv, include_header=True)
            else:
                df.write_csv(self._csv, include_header=False)
        self.rows += df.height

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
