// Package repotest checks the repository's own files against the code and
// against each other: action.yml declares exactly the inputs the code
// reads, the release workflow pins the image action.yml runs, and every
// third-party action is pinned by commit SHA. It holds only tests.
package repotest
