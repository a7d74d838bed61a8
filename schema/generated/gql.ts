/* eslint-disable */
import * as types from './graphql.ts';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query TitleList($authorId: Int!) {\n  titleList(authorId: $authorId) {\n    title\n  }\n}\n\nquery AuthorProfile($authorId: Int!) {\n  authorProfile(authorId: $authorId) {\n    name\n    country\n    titleCount\n    titles\n  }\n}\n\nquery Catalog {\n  catalog {\n    genre\n    books\n    authors\n    averagePages\n  }\n}\n\nquery ProductInfo($key: String!) {\n  product(key: $key) {\n    key\n    version\n    state\n    computedAt\n    freshUntil\n    computeCount\n    lastComputeMs\n    lastError\n    dependencies {\n      key\n    }\n    dependents {\n      key\n    }\n  }\n}\n\nmutation Refresh($key: String!) {\n  refresh(key: $key) {\n    key\n    version\n  }\n}\n\nmutation Invalidate($key: String!) {\n  invalidate(key: $key) {\n    key\n    state\n  }\n}\n\nmutation Prime($keys: [String!]!) {\n  prime(keys: $keys)\n}": typeof types.TitleListDocument,
};
const documents: Documents = {
    "query TitleList($authorId: Int!) {\n  titleList(authorId: $authorId) {\n    title\n  }\n}\n\nquery AuthorProfile($authorId: Int!) {\n  authorProfile(authorId: $authorId) {\n    name\n    country\n    titleCount\n    titles\n  }\n}\n\nquery Catalog {\n  catalog {\n    genre\n    books\n    authors\n    averagePages\n  }\n}\n\nquery ProductInfo($key: String!) {\n  product(key: $key) {\n    key\n    version\n    state\n    computedAt\n    freshUntil\n    computeCount\n    lastComputeMs\n    lastError\n    dependencies {\n      key\n    }\n    dependents {\n      key\n    }\n  }\n}\n\nmutation Refresh($key: String!) {\n  refresh(key: $key) {\n    key\n    version\n  }\n}\n\nmutation Invalidate($key: String!) {\n  invalidate(key: $key) {\n    key\n    state\n  }\n}\n\nmutation Prime($keys: [String!]!) {\n  prime(keys: $keys)\n}": types.TitleListDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query TitleList($authorId: Int!) {\n  titleList(authorId: $authorId) {\n    title\n  }\n}\n\nquery AuthorProfile($authorId: Int!) {\n  authorProfile(authorId: $authorId) {\n    name\n    country\n    titleCount\n    titles\n  }\n}\n\nquery Catalog {\n  catalog {\n    genre\n    books\n    authors\n    averagePages\n  }\n}\n\nquery ProductInfo($key: String!) {\n  product(key: $key) {\n    key\n    version\n    state\n    computedAt\n    freshUntil\n    computeCount\n    lastComputeMs\n    lastError\n    dependencies {\n      key\n    }\n    dependents {\n      key\n    }\n  }\n}\n\nmutation Refresh($key: String!) {\n  refresh(key: $key) {\n    key\n    version\n  }\n}\n\nmutation Invalidate($key: String!) {\n  invalidate(key: $key) {\n    key\n    state\n  }\n}\n\nmutation Prime($keys: [String!]!) {\n  prime(keys: $keys)\n}"): (typeof documents)["query TitleList($authorId: Int!) {\n  titleList(authorId: $authorId) {\n    title\n  }\n}\n\nquery AuthorProfile($authorId: Int!) {\n  authorProfile(authorId: $authorId) {\n    name\n    country\n    titleCount\n    titles\n  }\n}\n\nquery Catalog {\n  catalog {\n    genre\n    books\n    authors\n    averagePages\n  }\n}\n\nquery ProductInfo($key: String!) {\n  product(key: $key) {\n    key\n    version\n    state\n    computedAt\n    freshUntil\n    computeCount\n    lastComputeMs\n    lastError\n    dependencies {\n      key\n    }\n    dependents {\n      key\n    }\n  }\n}\n\nmutation Refresh($key: String!) {\n  refresh(key: $key) {\n    key\n    version\n  }\n}\n\nmutation Invalidate($key: String!) {\n  invalidate(key: $key) {\n    key\n    state\n  }\n}\n\nmutation Prime($keys: [String!]!) {\n  prime(keys: $keys)\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;