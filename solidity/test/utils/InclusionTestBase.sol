// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {InclusionHarness} from "./InclusionHarness.sol";
import {PayloadBuilder} from "./PayloadBuilder.sol";

/// @notice Shared setup of the Inclusion tests (InclusionTest, InclusionHistoryTest): the harness,
/// the sample block and the heights of the sample histories.
abstract contract InclusionTestBase is Test, PayloadBuilder {
    InclusionHarness internal harness;

    uint64 internal constant HEIGHT = 1_000;
    uint64 internal constant ROOT_HEIGHT = 1_336;

    /// @notice Deploys the harness.
    function setUp() public {
        harness = new InclusionHarness();
    }

    /// @dev The sample block: namespaces 10, 20, 30, 40, 50 with 3, 1, 4, 1 and 5 transactions.
    function _sample() internal pure returns (Block memory) {
        uint256[] memory counts = new uint256[](5);
        (counts[0], counts[1], counts[2], counts[3], counts[4]) = (3, 1, 4, 1, 5);
        return _simpleBlock(counts, "sample");
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------

    function _drop(bytes32[] memory a) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](a.length - 1);
        for (uint256 k = 0; k < r.length; ++k) {
            r[k] = a[k];
        }
    }
}
