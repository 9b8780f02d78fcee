package io.emend.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the {@code emend} command with its output captured, as a user would see it. */
public record EmendRun(int exitCode, String out, String err) {

    public static EmendRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Emend.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new EmendRun(code, out.toString(), err.toString());
    }

    /** The error output as lines, without the progress lines ({@code [1/3] ...}) that commands print there. */
    public java.util.List<String> errorLines() {
        return err.lines().filter(l -> !l.matches("\\[\\d+/\\d+] .*")).toList();
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- out\n" + out + "--- err\n" + err;
    }
}
