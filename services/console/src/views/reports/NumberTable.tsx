// NumberTable is the table of figures under a report's charts: a caption, a header, one
// row per period or agent, and an optional total row.
import type { ReactNode } from "react";

export interface Column<R> {
  header: string;
  cell: (row: R) => ReactNode;
  // total is the column's cell in the total row; absent where a sum would mislead.
  total?: ReactNode;
}

export function NumberTable<R>(props: { caption: string; columns: Column<R>[]; rows: R[]; rowKey: (row: R) => string; totals?: boolean }) {
  const { caption, columns, rows, rowKey, totals = false } = props;
  return (
    <div className="table-wrap report-table">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header} scope="col">
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={rowKey(r)}>
              {columns.map((c, i) =>
                i === 0 ? (
                  <th key={c.header} scope="row">
                    {c.cell(r)}
                  </th>
                ) : (
                  <td key={c.header}>{c.cell(r)}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
        {totals && (
          <tfoot>
            <tr>
              {columns.map((c, i) =>
                i === 0 ? (
                  <th key={c.header} scope="row">
                    Total
                  </th>
                ) : (
                  <td key={c.header}>{c.total ?? "–"}</td>
                ),
              )}
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}
