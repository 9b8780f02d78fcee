package io.emend.cli.terminal;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Left-aligned columns padded to their widest cell, with an upper-case header row, as {@code kubectl get} prints. */
public final class Table {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    public Table(String... header) {
        this.header = List.of(header);
    }

    public Table row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, header has " + header.size());
        }
        List<String> row = new ArrayList<>(cells.length);
        for (Object c : cells) {
            row.add(cell(c));
        }
        rows.add(row);
        return this;
    }

    /** How a value shows in a cell: absent and null as {@code -}, JSON scalars unquoted, JSON structures compact. */
    static String cell(Object value) {
        if (value instanceof JsonNode json) {
            if (json.isMissingNode() || json.isNull()) {
                return "-";
            }
            return json.isValueNode() ? json.asText() : json.toString();
        }
        return value == null ? "-" : value.toString();
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }

    public void print(PrintWriter out) {
        int[] widths = new int[header.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = header.get(i).length();
            for (List<String> row : rows) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        line(out, header, widths);
        rows.forEach(r -> line(out, r, widths));
        out.flush();
    }

    private static void line(PrintWriter out, List<String> cells, int[] widths) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String cell = cells.get(i);
            sb.append(cell);
            if (i < cells.size() - 1) {
                sb.append(" ".repeat(widths[i] - cell.length() + 2));
            }
        }
        out.println(sb);
    }
}
