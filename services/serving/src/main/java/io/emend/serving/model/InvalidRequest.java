package io.emend.serving.model;

/** A request parameter OpenAI's API would reject: answered 400 {@code invalid_request_error} with the parameter named. */
public final class InvalidRequest extends RuntimeException {

    private final String param;

    public InvalidRequest(String param, String message) {
        super(param == null ? message : param + ": " + message);
        this.param = param;
    }

    /** The offending parameter, or null when the request as a whole is wrong. */
    public String param() {
        return param;
    }
}
