package io.emend.cli.terminal;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** One record as {@code key: value} lines with the values aligned, for the {@code show} commands. */
public final class Details {

    private final List<String[]> fields = new ArrayList<>();

    public Details field(String key, Object value) {
        fields.add(new String[] {key, Table.cell(value)});
        return this;
    }

    public void print(PrintWriter out) {
        int width = fields.stream().mapToInt(f -> f[0].length()).max().orElse(0) + 2;
        for (String[] f : fields) {
            out.println(f[0] + ":" + " ".repeat(width - f[0].length() - 1) + f[1]);
        }
        out.flush();
    }
}
