"""The regions' policies as shipped inside the package, so `casestore serve --demo` finds
its policy from any directory and in the image. Each file is a copy of the repository's
`policies/<region>.yaml`, the source that privacy officers edit and the suite tests against
its allow/deny cases; tests/unit/test_packaged_policies.py fails when a copy drifts."""
