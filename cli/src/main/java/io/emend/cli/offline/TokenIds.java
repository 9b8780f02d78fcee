package io.emend.cli.offline;

import picocli.CommandLine;

/** Token ids given on the command line must exist in the model's vocabulary: a usage error otherwise. */
final class TokenIds {

    private TokenIds() {
    }

    static void check(CommandLine.Model.CommandSpec spec, String option, int[] ids, int vocab) {
        if (ids.length == 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " needs at least one id");
        }
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new CommandLine.ParameterException(spec.commandLine(), option + ": token id " + id
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }
}
