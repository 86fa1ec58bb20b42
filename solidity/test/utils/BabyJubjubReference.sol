// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Baby Jubjub arithmetic for tests (circomlib's twisted Edwards form over the BN254 scalar
/// field): enough to make as many distinct valid light-client keys as a test needs, as multiples
/// of circomlib's Base8. Slow and simple on purpose; never deployed.
library BabyJubjubReference {
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant A = 168700;
    uint256 internal constant D = 168696;
    /// @dev circomlib's Base8, the generator of the prime-order subgroup.
    uint256 internal constant BASE8_X = 5299619240641551281634865583518297030282874472190772894086521144482721001553;
    uint256 internal constant BASE8_Y = 16950150798460657717958625567821834550301663161624707787222815936182638968203;

    /// @notice k * Base8, by double-and-add (k = 0 gives the identity (0, 1)).
    function mulBase8(uint256 k) internal view returns (uint256 x, uint256 y) {
        (x, y) = (0, 1);
        (uint256 px, uint256 py) = (BASE8_X, BASE8_Y);
        while (k != 0) {
            if (k & 1 == 1) (x, y) = add(x, y, px, py);
            (px, py) = add(px, py, px, py);
            k >>= 1;
        }
    }

    /// @notice The twisted Edwards sum (complete on Baby Jubjub).
    function add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256 x3, uint256 y3) {
        uint256 t = mulmod(D, mulmod(mulmod(x1, x2, FIELD), mulmod(y1, y2, FIELD), FIELD), FIELD);
        uint256 xNum = addmod(mulmod(x1, y2, FIELD), mulmod(y1, x2, FIELD), FIELD);
        uint256 yNum = addmod(mulmod(y1, y2, FIELD), FIELD - mulmod(A, mulmod(x1, x2, FIELD), FIELD), FIELD);
        x3 = mulmod(xNum, inverse(addmod(1, t, FIELD)), FIELD);
        y3 = mulmod(yNum, inverse(addmod(1, FIELD - t, FIELD)), FIELD);
    }

    /// @notice a^(p-2) mod p through the modexp precompile.
    function inverse(uint256 a) internal view returns (uint256 result) {
        (bool ok, bytes memory out) = address(0x05).staticcall(abi.encode(32, 32, 32, a, FIELD - 2, FIELD));
        require(ok && out.length == 32, "modexp");
        result = abi.decode(out, (uint256));
    }

    /// @notice Whether (x, y) satisfies the curve equation (no range or subgroup check).
    function onCurve(uint256 x, uint256 y) internal pure returns (bool) {
        uint256 x2 = mulmod(x, x, FIELD);
        uint256 y2 = mulmod(y, y, FIELD);
        return addmod(mulmod(A, x2, FIELD), y2, FIELD) == addmod(1, mulmod(D, mulmod(x2, y2, FIELD), FIELD), FIELD);
    }
}
