// XML loading for Microkit System Description Files.
//
// The XML itself is parsed by @xmldom/xmldom; this module only turns its DOM into a small
// tree of element nodes that remember where they start in the source (1-based line and
// column of the element's '<'), which is all the SDF validator needs. Any report from the
// XML parser (warning, error or fatal error) makes the file invalid: the Microkit tool's own
// XML reader (roxmltree) only accepts well-formed documents, and so do we.

import { DOMParser } from '@xmldom/xmldom';

/** Where something sits in a source file (1-based line and column). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One attribute of an element, in source order. */
export interface XmlAttribute {
  readonly name: string;
  readonly value: string;
}

/** Text (or CDATA) that is not whitespace only, with the element it sits in. */
export interface XmlStrayText {
  readonly text: string;
  readonly pos: SourcePos;
}

/** An element of the document: tag, attributes, element children and position. */
export interface XmlElement {
  readonly tag: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** Non-whitespace text found directly inside this element. */
  readonly texts: readonly XmlStrayText[];
  readonly pos: SourcePos;
}

/** Raised when the document is not well-formed XML. */
export class XmlSyntaxError extends Error {
  constructor(
    readonly pos: SourcePos,
    readonly problem: string,
  ) {
    super(`${pos.file}:${pos.line}:${pos.column}: ${problem}`);
    this.name = 'XmlSyntaxError';
  }
}

// DOM node types used below (numeric values from the DOM standard).
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

interface LocatedNode {
  nodeType: number;
  nodeValue: string | null;
  lineNumber?: number;
  columnNumber?: number;
  localName?: string | null;
  nodeName: string;
  firstChild: LocatedNode | null;
  nextSibling: LocatedNode | null;
  attributes?: ArrayLike<{ name: string; localName?: string | null; prefix?: string | null; value: string }>;
}

function isNamespaceDeclaration(attr: { name: string; prefix?: string | null }): boolean {
  return attr.name === 'xmlns' || attr.prefix === 'xmlns' || attr.name.startsWith('xmlns:');
}

function toElement(file: string, node: LocatedNode, fallback: SourcePos): XmlElement {
  const pos: SourcePos = {
    file,
    line: node.lineNumber ?? fallback.line,
    column: node.columnNumber ?? fallback.column,
  };
  const attributes: XmlAttribute[] = [];
  const attrs = node.attributes;
  if (attrs) {
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i]!;
      // Namespace declarations are not attributes for the Microkit tool's XML reader.
      if (isNamespaceDeclaration(a)) continue;
      attributes.push({ name: a.localName ?? a.name, value: a.value });
    }
  }
  const children: XmlElement[] = [];
  const texts: XmlStrayText[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === ELEMENT_NODE) {
      children.push(toElement(file, c, pos));
    } else if (c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) {
      const text = c.nodeValue ?? '';
      if (text.trim() !== '') {
        texts.push({
          text: text.trim(),
          pos: { file, line: c.lineNumber ?? pos.line, column: c.columnNumber ?? pos.column },
        });
      }
    }
    // Comments and processing instructions are ignored, as by the Microkit tool.
  }
  return { tag: node.localName ?? node.nodeName, attributes, children, texts, pos };
}

/**
 * Parses `source` as XML and returns its root element.
 * @throws XmlSyntaxError when the text is not well-formed XML.
 */
export function parseXmlDocument(source: string, file: string): XmlElement {
  // A byte-order mark is not content; roxmltree skips it too.
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
  let first: XmlSyntaxError | undefined;
  const parser = new DOMParser({
    onError: (level, message, context: { locator?: { lineNumber?: number; columnNumber?: number } } | undefined) => {
      const line = context?.locator?.lineNumber;
      const column = context?.locator?.columnNumber;
      const pos: SourcePos = {
        file,
        line: line !== undefined && line > 0 ? line : 1,
        column: column !== undefined && column > 0 ? column : 1,
      };
      const problem = `malformed XML (${level === 'fatalError' ? 'fatal error' : level}): ${message}`;
      first ??= new XmlSyntaxError(pos, problem);
      throw first;
    },
  });
  let doc: { documentElement: unknown } | undefined;
  try {
    doc = parser.parseFromString(text, 'text/xml') as unknown as { documentElement: unknown };
  } catch (e) {
    if (first) throw first;
    const message = e instanceof Error ? e.message : String(e);
    throw new XmlSyntaxError({ file, line: 1, column: 1 }, `malformed XML: ${message}`);
  }
  if (first) throw first;
  const root = doc?.documentElement as LocatedNode | null | undefined;
  if (!root) {
    throw new XmlSyntaxError({ file, line: 1, column: 1 }, 'malformed XML: the document has no root element');
  }
  return toElement(file, root, { file, line: 1, column: 1 });
}
