/** Base class for every error @nabla/report throws: the message is one line a user can act on. */
export class ReportError extends Error {
  /** Marks a mistake a user can fix: a CLI prints its one-line message without a stack (see @nabla/runner). */
  readonly userFacing = true;
  override name = "ReportError";
}

/** A template failed: a missing variable, a helper given bad input, TeX that KaTeX rejects, bad syntax. */
export class TemplateError extends ReportError {
  override name = "TemplateError";
  constructor(
    message: string,
    /** Template file (relative to the template folder) in which the error happened. */
    readonly templateFile: string,
    /** The variable path that was missing, when that was the problem. */
    readonly variable?: string,
  ) {
    super(message);
  }
}

/** No Chromium/Chrome was found to print the PDF. */
export class BrowserNotFoundError extends ReportError {
  override name = "BrowserNotFoundError";
}

/** The report refers to something that is not inline (a data: URL or a #fragment); the browser would drop it. */
export class ExternalResourceError extends ReportError {
  override name = "ExternalResourceError";
  constructor(
    message: string,
    /** The URL as written. */
    readonly url: string,
    /** `file:line:column` of the template (or style.css) holding it, else the output HTML. */
    readonly source: string,
  ) {
    super(message);
  }
}
